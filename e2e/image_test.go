//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestImageFilesystem is the closest check of the container image this
// machine can run without a Docker engine. Everything comes from the
// Dockerfile itself:
//
//  1. the build stage's RUN line is replayed (its go build, with the ARG
//     defaults and the line's own variables, output under a temp dir), and
//     every ELF file the final stage copies must be static;
//  2. the final stage's file system is assembled in a temp dir: what
//     gcr.io/distroless/static provides that matters at run time (below),
//     then the stage's COPY --from lines with their --chown;
//  3. ENTRYPOINT+CMD runs chrooted in it as the Dockerfile's USER with its
//     ENV (BREAKWATER_LISTEN overridden to a free loopback port, as
//     `docker run -e` would), and the HEALTHCHECK's CMD runs the same way.
//
// What it cannot see: the real base image's other files, the registry,
// Docker's mounts (/proc, /dev, /sys, resolv.conf), namespaces and
// capabilities.
func TestImageFilesystem(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("TestImageFilesystem needs root (chroot, and running as the image's user) and CI runs the tests as root; this run is not root")
		}
		t.Skip("needs root: it chroots into the assembled image and runs as the Dockerfile's USER (CI runs it as root)")
	}
	ctx := deadline(t, 3*time.Minute) // a build with a cold cache included
	df, err := parseDockerfile(readRepoFile(t, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	final := df.final()
	img, err := imageConfig(final)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}

	// 1. Build every stage the final stage copies from.
	built := map[*dfStage]string{} // stage → the host directory standing in for its root
	for _, c := range final.copies {
		if c.from == "" {
			continue
		}
		st := df.stage(c.from)
		if st == nil || st == final {
			t.Fatalf("Dockerfile:%d: COPY --from=%s names no earlier stage (copying from an image needs a registry)", c.line, c.from)
		}
		if _, ok := built[st]; !ok {
			dir := filepath.Join(work, fmt.Sprintf("stage%d", st.index))
			replayStage(ctx, t, st, repo, dir)
			built[st] = dir
		}
	}

	// 2. Assemble the final stage's root.
	root := filepath.Join(work, "root")
	writeDistrolessStatic(t, root)
	for _, c := range final.copies {
		if c.workdir == "" {
			c.workdir = img.base.workdir // the base image's WORKDIR
		}
		if err := applyCopy(root, c, func(src string) (string, error) {
			if c.from == "" {
				return filepath.Join(repo, filepath.FromSlash(path.Clean("/"+src))), nil
			}
			st := df.stage(c.from)
			return stagePath(st, built[st], repo, src), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if isELF(p) {
			if err := checkStatic(p); err != nil {
				return fmt.Errorf("%s in the image %w, which %s does not have (is CGO_ENABLED=0 still on the go build line?)", strings.TrimPrefix(p, root), err, final.image)
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}

	// 3. Run it as Docker would.
	uid, gid, home, err := lookupUser(root, final.user, false)
	if err != nil {
		t.Fatalf("Dockerfile:%d: USER %s: %v", final.userLine, final.user, err)
	}
	if uid == 0 {
		t.Fatalf("Dockerfile:%d: USER %s is root", final.userLine, final.user)
	}
	addr := freeAddr(t)
	run := imageRun{root: root, dir: img.workdir, uid: uid, gid: gid,
		env: img.environ(home, "BREAKWATER_LISTEN", addr)}
	t.Logf("image: %s as %d:%d in %s, env %q", final.image, uid, gid, run.dir, run.env)
	for _, v := range img.volumes {
		if err := os.MkdirAll(filepath.Join(root, v), 0o755); err != nil { // Docker creates a missing volume path
			t.Fatal(err)
		}
	}
	entry, err := run.resolve(img.argv)
	if err != nil {
		t.Fatalf("Dockerfile:%d: ENTRYPOINT/CMD %q: %v", final.entrypointLine, img.argv, err)
	}
	check, err := run.resolve(img.health.argv)
	if err != nil {
		t.Fatalf("Dockerfile:%d: HEALTHCHECK CMD %q: %v", final.healthLine, img.health.argv, err)
	}
	// What the runtime needs of the user before anything runs; a failure
	// here would otherwise surface as a bare "permission denied".
	for _, need := range []struct {
		what string
		p    string
		mode fs.FileMode
	}{
		{"enter its working directory (the runtime's chdir fails)", run.dir, 0o1},
		{"execute its ENTRYPOINT/CMD", entry[0], 0o1},
		{"execute its HEALTHCHECK", check[0], 0o1},
		{"create files in its data directory", img.dataDir, 0o3},
	} {
		if err := run.access(need.p, need.mode); err != nil {
			t.Errorf("Dockerfile:%d: USER %s cannot %s: %v", final.userLine, final.user, need.what, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	before := tree(t, root)

	if out, ok := run.probe(ctx, check, img.health.timeout); ok {
		t.Errorf("HEALTHCHECK %q reports healthy before the service started:\n%s", check, out)
	} else {
		t.Logf("HEALTHCHECK before the service started: %s", strings.TrimSpace(out))
	}
	for st := range built {
		// `docker run image version`: the build's ARG VERSION default
		// reached the binary through -ldflags.
		if v, ok := st.vars["VERSION"]; ok && final.entrypointSet {
			argv, err := run.resolve(append(slices.Clone(final.entrypoint), "version"))
			if err != nil {
				t.Fatalf("Dockerfile:%d: ENTRYPOINT: %v", final.entrypointLine, err)
			}
			if out, ok := run.probe(ctx, argv, 10*time.Second); !ok || strings.TrimSpace(out) != "breakwater "+v {
				t.Errorf("%q in the image: %q, want \"breakwater %s\" (the build stage's ARG VERSION)", argv, out, v)
			}
		}
	}

	p := startProc(t, "the image's "+strings.Join(img.argv, " "), run.command(context.Background(), entry), "http://"+addr)
	// Docker counts no failure during --start-period: the service must be
	// up by its end.
	p.waitReady(max(img.health.startPeriod, 5*time.Second))
	if out, ok := run.probe(ctx, check, img.health.timeout); !ok {
		t.Errorf("HEALTHCHECK %q fails (or takes longer than its --timeout=%s) with the service up:\n%s", check, img.health.timeout, out)
	} else {
		t.Logf("HEALTHCHECK with the service up: %s", strings.TrimSpace(out))
	}
	for _, u := range []string{"/healthz", "/provider_info"} {
		if status, body := get(p.URL + u); status != http.StatusOK {
			t.Errorf("GET %s: %d %s", u, status, tail(body, 300))
		}
	}
	for _, name := range []string{"breakwater.db", "secret.key"} {
		f := path.Join(img.dataDir, name)
		fi, err := os.Stat(filepath.Join(root, f))
		if err != nil {
			t.Errorf("serve did not create %s in the volume: %v", f, err)
			continue
		}
		if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid || int(st.Gid) != gid {
			t.Errorf("%s is owned by %d:%d, want the image's user %d:%d", f, st.Uid, st.Gid, uid, gid)
		}
		if name == "secret.key" && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %s: others may read the secret key", f, fi.Mode())
		}
	}

	if err := p.stop(5 * time.Second); err != nil {
		t.Errorf("after SIGTERM (as `docker stop` sends): %v", err)
	}
	if out, ok := run.probe(ctx, check, img.health.timeout); ok {
		t.Errorf("HEALTHCHECK %q reports healthy after the service stopped:\n%s", check, out)
	} else {
		t.Logf("HEALTHCHECK after the service stopped: %s", strings.TrimSpace(out))
	}
	// deploy/compose.yaml runs the image with a read-only root file
	// system: the service may write in its volumes only.
	for f := range tree(t, root) {
		if _, ok := before[f]; !ok && !slices.ContainsFunc(img.volumes, func(v string) bool { return f == v || strings.HasPrefix(f, v+"/") }) {
			t.Errorf("the service wrote %s, outside its volumes %v (compose runs the image read-only)", f, img.volumes)
		}
	}
}

// image is what the final stage configures, checked for what running it
// needs.
type image struct {
	base    distroless
	argv    []string // ENTRYPOINT + CMD
	health  *dfHealth
	env     []dfKV
	volumes []string
	workdir string
	dataDir string
}

// distroless is what gcr.io/distroless/static's image configuration sets.
type distroless struct {
	workdir string
	env     []dfKV
}

var distrolessRe = regexp.MustCompile(`^gcr\.io/distroless/static(?:-debian\d+)?(?::([\w.-]+))?(?:@sha256:[0-9a-f]{64})?$`)

func imageConfig(st *dfStage) (*image, error) {
	fail := func(format string, args ...any) (*image, error) {
		return nil, fmt.Errorf("Dockerfile: final stage (line %d): %s", st.line, fmt.Sprintf(format, args...))
	}
	m := distrolessRe.FindStringSubmatch(st.image)
	if m == nil {
		return fail("FROM %s: the test knows what gcr.io/distroless/static[-debianN][:nonroot] contains, not this image", st.image)
	}
	// The distroless build (rules in GoogleContainerTools/distroless): PATH
	// and SSL_CERT_FILE in the configuration; :nonroot runs as 65532 in
	// /home/nonroot, the other tags as root in /.
	img := &image{base: distroless{workdir: "/", env: []dfKV{
		{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		{"SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"},
	}}}
	switch m[1] {
	case "nonroot":
		img.base.workdir = "/home/nonroot"
	case "", "latest":
	default:
		return fail("FROM %s: tag %q is not one the test knows (latest, nonroot)", st.image, m[1])
	}
	if st.user == "" {
		return fail("no USER (the image would run as the base's user; say which)")
	}
	switch {
	case st.entrypointSet && st.cmdSet:
		img.argv = append(slices.Clone(st.entrypoint), st.cmd...)
	case st.entrypointSet:
		img.argv = st.entrypoint
	case st.cmdSet:
		img.argv = st.cmd
	}
	if len(img.argv) == 0 {
		return fail("no ENTRYPOINT or CMD: the image runs nothing")
	}
	if img.health = st.health; img.health == nil {
		return fail("no HEALTHCHECK")
	}
	if len(st.volumes) == 0 {
		return fail("no VOLUME: the database would live in the container's writable layer")
	}
	img.env, img.volumes = st.env, st.volumes
	img.workdir = img.base.workdir
	if st.workdir != "" {
		img.workdir = st.workdir
	}
	var listen string
	for _, kv := range st.env {
		switch kv.k {
		case "BREAKWATER_DATA_DIR":
			img.dataDir = inDir(img.workdir, kv.v)
		case "BREAKWATER_LISTEN":
			listen = kv.v
		}
	}
	if img.dataDir == "" {
		return fail("no ENV BREAKWATER_DATA_DIR (serve would use ./data in %s, outside the volume)", img.workdir)
	}
	if !slices.ContainsFunc(st.volumes, func(v string) bool { return img.dataDir == v || strings.HasPrefix(img.dataDir, v+"/") }) {
		return fail("ENV BREAKWATER_DATA_DIR=%s is not in a VOLUME %v: the database would live in the container's writable layer", img.dataDir, st.volumes)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return fail("ENV BREAKWATER_LISTEN=%q: %v", listen, err)
	}
	if ip := net.ParseIP(host); host != "" && (ip == nil || !ip.IsUnspecified()) {
		return fail("ENV BREAKWATER_LISTEN=%s listens on %s only: a published port would not reach it (want 0.0.0.0)", listen, host)
	}
	if !slices.ContainsFunc(st.expose, func(e string) bool { return strings.TrimSuffix(e, "/tcp") == port }) {
		return fail("ENV BREAKWATER_LISTEN=%s, but EXPOSE says %v", listen, st.expose)
	}
	return img, nil
}

// environ is the container's environment as Docker builds it: the base
// image's configuration, HOME from the user's passwd entry, the
// Dockerfile's ENV in order, then `docker run -e` overrides.
func (img *image) environ(home string, override ...string) []string {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	for _, kv := range img.base.env {
		set(kv.k, kv.v)
	}
	set("HOME", home)
	for _, kv := range img.env {
		set(kv.k, kv.v)
	}
	for i := 0; i+1 < len(override); i += 2 {
		set(override[i], override[i+1])
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vars[k])
	}
	return out
}

// The parts of gcr.io/distroless/static that matter at run time, as its
// build (GoogleContainerTools/distroless, common/BUILD.bazel) lays them
// out. Left out: tzdata, netbase's /etc/services and friends,
// nsswitch.conf, os-release, /root.
const (
	distrolessPasswd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	distrolessGroup = "root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n"
)

func writeDistrolessStatic(t *testing.T, root string) {
	t.Helper()
	dirs := []struct {
		p    string
		mode fs.FileMode
		uid  int
	}{
		{"", 0o755, 0}, {"etc", 0o755, 0}, {"etc/ssl/certs", 0o755, 0},
		{"tmp", 0o777 | fs.ModeSticky, 0}, {"home", 0o755, 0}, {"home/nonroot", 0o700, 65532},
	}
	for _, d := range dirs {
		p := filepath.Join(root, d.p)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, d.mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(p, d.uid, d.uid); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{"etc/passwd": distrolessPasswd, "etc/group": distrolessGroup}
	if b, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt"); err == nil {
		files["etc/ssl/certs/ca-certificates.crt"] = string(b)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// replayStage runs a build stage's RUN lines on this machine. The stage's
// WORKDIR is the repository (the stage must COPY the whole context into
// it); every other absolute path it writes lands under dir. The commands
// it knows: go build (run as written, -o redirected), go mod download
// (this machine's module cache stands in) and mkdir.
func replayStage(ctx context.Context, t *testing.T, st *dfStage, repo, dir string) {
	t.Helper()
	if !strings.HasPrefix(st.image, "golang:") {
		t.Fatalf("Dockerfile:%d: stage %s is FROM %s: the test replays golang:* build stages only", st.line, st.name, st.image)
	}
	if !slices.ContainsFunc(st.copies, func(c dfCopy) bool {
		return c.from == "" && len(c.srcs) == 1 && path.Clean(c.srcs[0]) == "." &&
			inDir(c.workdir, c.dst) == inDir("/", st.workdir)
	}) {
		t.Fatalf("Dockerfile:%d: stage %s does not COPY . into its WORKDIR: the test builds in the repository, which stands for the context", st.line, st.name)
	}
	if v := strings.TrimPrefix(st.image, "golang:"); !strings.HasPrefix(runtime.Version(), "go"+strings.SplitN(v, "-", 2)[0]) {
		t.Logf("note: the build stage uses %s; this machine has %s", st.image, runtime.Version())
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out := func(p, workdir string) string { // a path a command writes
		return filepath.Join(dir, filepath.FromSlash(inDir(workdir, p)))
	}
	ran := false
	for _, r := range st.runs {
		argv := [][]string{r.argv}
		if r.argv == nil {
			toks, err := tokenize(r.shell, r.vars, true)
			if err != nil {
				t.Fatalf("Dockerfile:%d: RUN: %v", r.line, err)
			}
			argv = [][]string{nil}
			for _, tk := range toks {
				switch {
				case tk.op:
					argv = append(argv, nil)
				default:
					argv[len(argv)-1] = append(argv[len(argv)-1], tk.s)
				}
			}
		}
		for _, words := range argv {
			// NAME=value words before the command are its environment.
			assign := map[string]string{}
			for len(words) > 0 {
				k, v, ok := strings.Cut(words[0], "=")
				if !ok || !validVarName(k) {
					break
				}
				assign[k] = v
				words = words[1:]
			}
			switch {
			case len(words) == 0:
				t.Fatalf("Dockerfile:%d: RUN has an empty command", r.line)
			case len(words) >= 3 && words[0] == "go" && words[1] == "mod" && words[2] == "download":
				continue
			case words[0] == "mkdir":
				for _, a := range words[1:] {
					if strings.HasPrefix(a, "-") {
						if a != "-p" {
							t.Fatalf("Dockerfile:%d: RUN mkdir %s: only -p is replayed", r.line, a)
						}
						continue
					}
					if err := os.MkdirAll(out(a, r.workdir), 0o755); err != nil {
						t.Fatal(err)
					}
				}
			case len(words) >= 2 && words[0] == "go" && words[1] == "build":
				args := slices.Clone(words[1:])
				for i, a := range args {
					switch {
					case a == "-o" && i+1 < len(args):
						args[i+1] = out(args[i+1], r.workdir)
					case strings.HasPrefix(a, "-o="):
						args[i] = "-o=" + out(a[3:], r.workdir)
					}
				}
				env := buildEnv(r.vars, assign)
				cmd := exec.CommandContext(ctx, goBin, args...) //nolint:gosec // the Dockerfile's own build command
				cmd.Dir, cmd.Env = repo, env
				t.Logf("Dockerfile:%d: CGO_ENABLED=%s go %q", r.line, env[len(env)-1][len("CGO_ENABLED="):], args)
				if b, err := cmd.CombinedOutput(); err != nil {
					note := ""
					if !slices.Contains(env, "CGO_ENABLED=0") {
						note = "\n(the line does not set CGO_ENABLED=0, so cgo is on, as in the golang image, which has gcc)"
					}
					t.Fatalf("Dockerfile:%d: go %q: %v\n%s%s", r.line, args, err, b, note)
				}
				ran = true
			default:
				t.Fatalf("Dockerfile:%d: RUN %s: the test replays go build, go mod download and mkdir only; teach replayStage what this does", r.line, strings.Join(words, " "))
			}
		}
	}
	if !ran {
		t.Fatalf("Dockerfile:%d: stage %s has no RUN … go build", st.line, st.name)
	}
}

// buildEnv is the environment of a replayed go build: this machine's
// (its module cache, proxy settings, PATH) without the variables that
// decide what is built, then the stage's ARG and ENV values and the
// command's own assignments. The golang image has gcc, so cgo is on
// unless the Dockerfile turns it off.
func buildEnv(vars, assign map[string]string) []string {
	decides := []string{"CGO_ENABLED", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOEXPERIMENT"}
	var env []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(decides, k) {
			env = append(env, kv)
		}
	}
	cgo := "1"
	for _, m := range []map[string]string{vars, assign} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			env = append(env, k+"="+m[k])
			if k == "CGO_ENABLED" {
				cgo = m[k]
			}
		}
	}
	return append(env, "CGO_ENABLED="+cgo)
}

// stagePath is where a path of a built stage is on this machine: what the
// replayed commands wrote under dir, else the context (the repository) in
// the stage's WORKDIR.
func stagePath(st *dfStage, dir, repo, p string) string {
	p = inDir(st.workdir, p)
	written := filepath.Join(dir, filepath.FromSlash(p))
	if _, err := os.Lstat(written); err == nil {
		return written
	}
	if wd := path.Join("/", st.workdir); p == wd || strings.HasPrefix(p, wd+"/") {
		return filepath.Join(repo, filepath.FromSlash(strings.TrimPrefix(p, wd)))
	}
	return written
}

// applyCopy does one COPY into root: a file source to the destination (or
// into it when it is a directory or ends in /), a directory source's
// contents into the destination directory. --chown applies to everything
// copied, the destination directory of a directory source included;
// directories created on the way belong to root.
func applyCopy(root string, c dfCopy, source func(string) (string, error)) error {
	fail := func(format string, args ...any) error {
		return dfErr(c.line, "COPY %s %s: %s", strings.Join(c.srcs, " "), c.dst, fmt.Sprintf(format, args...))
	}
	uid, gid := -1, -1
	if c.chown != "" {
		var err error
		if uid, gid, _, err = lookupUser(root, c.chown, true); err != nil {
			return fail("--chown=%s: %v", c.chown, err)
		}
	}
	var mode fs.FileMode
	if c.chmod != "" {
		m, err := strconv.ParseUint(c.chmod, 8, 32)
		if err != nil {
			return fail("--chmod=%s: want an octal mode", c.chmod)
		}
		mode = fs.FileMode(m)
	}
	dst := inDir(c.workdir, c.dst)
	hostDst := filepath.Join(root, filepath.FromSlash(dst))
	intoDir := strings.HasSuffix(c.dst, "/") || len(c.srcs) > 1
	if fi, err := os.Stat(hostDst); err == nil && fi.IsDir() {
		intoDir = true
	}
	for _, s := range c.srcs {
		if strings.ContainsAny(s, "*?[") {
			return fail("wildcards are not replayed by this test")
		}
		src, err := source(s)
		if err != nil {
			return fail("%v", err)
		}
		fi, err := os.Stat(src)
		if err != nil {
			return fail("the source %s was not produced (%v)", s, err)
		}
		target := hostDst
		if fi.IsDir() {
			intoDir = true
		} else if intoDir {
			target = filepath.Join(hostDst, filepath.Base(src))
		}
		parent := target
		if !fi.IsDir() {
			parent = filepath.Dir(target)
		}
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return fail("%v", err)
		}
		if err := copyTree(src, target, uid, gid, mode); err != nil {
			return fail("%v", err)
		}
	}
	return nil
}

// copyTree copies src (a file or a directory) to dst, keeping modes unless
// mode is set, and owned by uid:gid unless they are -1 (then root).
func copyTree(src, dst string, uid, gid int, mode fs.FileMode) error {
	if uid < 0 {
		uid, gid = 0, 0
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		perm := fi.Mode().Perm() | (fi.Mode() & (fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky))
		if mode != 0 {
			perm = mode
		}
		switch {
		case d.IsDir():
			if err := os.MkdirAll(to, 0o755); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(l, to); err != nil {
				return err
			}
			return os.Lchown(to, uid, gid)
		case d.Type().IsRegular():
			if err := copyFile(p, to); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s is neither a file, a directory nor a symbolic link", p)
		}
		if err := os.Chmod(to, perm); err != nil {
			return err
		}
		return os.Lchown(to, uid, gid)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src) //nolint:gosec // build outputs of this test
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600) //nolint:gosec // under the test's temp dir
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// lookupUser resolves user[:group] against the image's /etc/passwd and
// /etc/group the way Docker does: names must exist; a numeric user that
// does not gets group 0 and home / (for --chown, sameGID: the uid as gid).
func lookupUser(root, spec string, sameGID bool) (uid, gid int, home string, err error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	passwd, err := readColonFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		return 0, 0, "", err
	}
	uid, gid, home = -1, 0, "/"
	for _, f := range passwd {
		if len(f) >= 6 && (f[0] == userPart || f[2] == userPart) {
			uid, _ = strconv.Atoi(f[2])
			gid, _ = strconv.Atoi(f[3])
			home = f[5]
			break
		}
	}
	if uid < 0 {
		n, err := strconv.Atoi(userPart)
		if err != nil || n < 0 {
			return 0, 0, "", fmt.Errorf("no user %q in the image's /etc/passwd", userPart)
		}
		uid = n
		if sameGID {
			gid = n
		}
	}
	if !hasGroup {
		if sameGID {
			gid = uid
		}
		return uid, gid, home, nil
	}
	if n, err := strconv.Atoi(groupPart); err == nil && n >= 0 {
		return uid, n, home, nil
	}
	groups, err := readColonFile(filepath.Join(root, "etc/group"))
	if err != nil {
		return 0, 0, "", err
	}
	for _, f := range groups {
		if len(f) >= 3 && f[0] == groupPart {
			gid, _ = strconv.Atoi(f[2])
			return uid, gid, home, nil
		}
	}
	return 0, 0, "", fmt.Errorf("no group %q in the image's /etc/group", groupPart)
}

func readColonFile(p string) ([][]string, error) {
	b, err := os.ReadFile(p) //nolint:gosec // the assembled image's own file
	if err != nil {
		return nil, err
	}
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, strings.Split(line, ":"))
		}
	}
	return out, sc.Err()
}

func isELF(p string) bool {
	f, err := os.Open(p) //nolint:gosec // a file of the assembled image
	if err != nil {
		return false
	}
	defer f.Close()
	magic := make([]byte, 4)
	_, err = io.ReadFull(f, magic)
	return err == nil && string(magic) == elf.ELFMAG
}

// checkStatic fails for an ELF file that needs a program interpreter (the
// dynamic loader) or shared libraries.
func checkStatic(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var problems []string
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			b, _ := io.ReadAll(prog.Open())
			problems = append(problems, "the loader "+strings.TrimRight(string(b), "\x00"))
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return err
	}
	if len(libs) > 0 {
		problems = append(problems, "shared libraries "+strings.Join(libs, ", "))
	}
	if problems != nil {
		return fmt.Errorf("is dynamically linked: it needs %s", strings.Join(problems, " and "))
	}
	return nil
}

// imageRun runs commands inside the assembled root the way the container
// runtime would: chrooted, as the image's user, in its working directory,
// with only the container's environment.
type imageRun struct {
	root, dir string
	uid, gid  int
	env       []string
}

func (r imageRun) command(ctx context.Context, argv []string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...) //nolint:gosec // the image's own commands
	cmd.Dir, cmd.Env = r.dir, r.env                       // Dir is entered after the chroot
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     r.root,
		Credential: &syscall.Credential{Uid: uint32(r.uid), Gid: uint32(r.gid)}, //nolint:gosec // small ids
	}
	return cmd
}

// resolve finds argv[0] in the image, on the container's PATH when it has
// no slash, and checks it is an executable file.
func (r imageRun) resolve(argv []string) ([]string, error) {
	if len(argv) == 0 {
		return nil, errors.New("no command")
	}
	name := argv[0]
	var candidates []string
	if strings.Contains(name, "/") {
		candidates = []string{inDir(r.dir, name)}
	} else {
		for _, kv := range r.env {
			if v, ok := strings.CutPrefix(kv, "PATH="); ok {
				for _, d := range strings.Split(v, ":") {
					candidates = append(candidates, path.Join("/", d, name))
				}
			}
		}
	}
	for _, c := range candidates {
		if fi, err := os.Stat(filepath.Join(r.root, c)); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return append([]string{c}, argv[1:]...), nil
		}
	}
	return nil, fmt.Errorf("%s is not an executable file in the image (looked at %v)", name, candidates)
}

// access reports whether the user may use p for mode (0o1 search or
// execute, 0o2 write, 0o4 read; the permission bits for "other"), with
// search on every directory on the way. A path that does not exist yet
// needs mode on its nearest existing parent.
func (r imageRun) access(p string, mode fs.FileMode) error {
	p = path.Clean(p)
	target, note := p, ""
	for target != "/" {
		if _, err := os.Lstat(filepath.Join(r.root, target)); err == nil {
			break
		}
		target, mode, note = path.Dir(target), 0o3, " ("+p+" is to be created in it)"
	}
	dirs := []string{"/"}
	for cur, part := range strings.Split(strings.TrimPrefix(target, "/"), "/") {
		if part != "" {
			dirs = append(dirs, path.Join(dirs[cur], part))
		}
	}
	for i, d := range dirs {
		want := fs.FileMode(0o1)
		if i == len(dirs)-1 {
			want = mode
		}
		fi, err := os.Stat(filepath.Join(r.root, d))
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		perm := fi.Mode().Perm()
		switch {
		case int(st.Uid) == r.uid:
			perm >>= 6
		case int(st.Gid) == r.gid:
			perm >>= 3
		}
		if perm&want != want {
			return fmt.Errorf("%s is %s, owned by %d:%d%s", d, fi.Mode(), st.Uid, st.Gid, note)
		}
	}
	return nil
}

// probe runs argv to completion within timeout and reports whether it
// exited 0, with its output.
func (r imageRun) probe(ctx context.Context, argv []string, timeout time.Duration) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	b, err := r.command(ctx, argv).CombinedOutput()
	out := string(b)
	if lines := strings.SplitAfter(out, "\n"); len(lines) > 4 {
		out = strings.Join(lines[:3], "") + "…\n"
	}
	if ctx.Err() != nil {
		return fmt.Sprintf("%s(no answer within %s)", out, timeout), false
	}
	if err != nil {
		return fmt.Sprintf("%s(%v after %s)", out, err, time.Since(start).Round(time.Millisecond)), false
	}
	return out, true
}

// inDir is p as an absolute path, relative ones taken from dir.
func inDir(dir, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join("/", dir, p)
}

// tree lists every path under root, as the image sees it.
func tree(t *testing.T, root string) map[string]struct{} {
	t.Helper()
	out := map[string]struct{}{}
	if err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[path.Join("/", filepath.ToSlash(rel))] = struct{}{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
