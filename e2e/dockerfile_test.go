package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A small Dockerfile parser for TestImageFilesystem: the instructions the
// repository's Dockerfile uses, read the way BuildKit reads them (line
// continuations, comments, ARG and ENV substitution, exec-form JSON). An
// instruction it does not know is an error rather than something skipped,
// so a new line in the Dockerfile cannot silently escape the test.

// dockerfile is a parsed Dockerfile: its stages in order.
type dockerfile struct {
	stages []*dfStage
}

// dfStage is one FROM … [AS name] and the instructions under it.
type dfStage struct {
	line  int
	index int
	name  string // "" when the stage has no AS
	image string
	// vars are the ARG and ENV values in scope at the end of the stage
	// (each RUN and COPY keeps its own snapshot).
	vars    map[string]string
	env     []dfKV // ENV in order
	workdir string // "" when the stage sets none

	runs   []dfRun
	copies []dfCopy

	user       string
	userLine   int
	volumes    []string
	expose     []string
	health     *dfHealth
	healthLine int

	entrypoint, cmd         []string
	entrypointSet, cmdSet   bool
	entrypointLine, cmdLine int
}

type dfKV struct{ k, v string }

// dfRun is one RUN: the shell form's text (words are split when it is
// replayed) or the exec form's argv, with the ARG and ENV values the
// command sees.
type dfRun struct {
	line    int
	shell   string
	argv    []string
	vars    map[string]string
	workdir string
}

// dfCopy is one COPY with its flags, substituted.
type dfCopy struct {
	line    int
	from    string
	chown   string
	chmod   string
	srcs    []string
	dst     string
	workdir string
}

// dfHealth is a HEALTHCHECK CMD [...] with its timings (Docker's defaults
// where the Dockerfile gives none).
type dfHealth struct {
	interval, timeout, startPeriod, startInterval time.Duration
	retries                                       int
	argv                                          []string
}

// stage returns the stage a COPY --from names: by its AS name or its index.
func (d *dockerfile) stage(ref string) *dfStage {
	for _, s := range d.stages {
		if s.name != "" && strings.EqualFold(s.name, ref) {
			return s
		}
	}
	if i, err := strconv.Atoi(ref); err == nil && i >= 0 && i < len(d.stages) {
		return d.stages[i]
	}
	return nil
}

func (d *dockerfile) final() *dfStage { return d.stages[len(d.stages)-1] }

// dfInstruction is one logical line: continuations joined, comments gone.
type dfInstruction struct {
	line int
	op   string // upper case
	args string
}

func dfErr(line int, format string, args ...any) error {
	return fmt.Errorf("Dockerfile:%d: %s", line, fmt.Sprintf(format, args...))
}

// dfInstructions splits a Dockerfile into instructions. A line ending in a
// backslash continues on the next; comment lines are dropped, also inside
// a continuation.
func dfInstructions(src string) ([]dfInstruction, error) {
	var out []dfInstruction
	var buf strings.Builder
	start := 0 // line of the instruction being read, 0 when none
	for i, raw := range strings.Split(src, "\n") {
		n := i + 1
		line := strings.TrimRight(raw, " \t\r")
		trimmed := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(trimmed, "#") {
			if len(out) == 0 && start == 0 {
				d := strings.ToLower(strings.Join(strings.Fields(strings.TrimPrefix(trimmed, "#")), ""))
				if strings.HasPrefix(d, "escape=") && d != `escape=\` {
					return nil, dfErr(n, "parser directive %q: only the default escape character \\ is understood", trimmed)
				}
			}
			continue
		}
		if trimmed == "" {
			continue // blank lines end nothing, not even a continuation
		}
		if start == 0 {
			start = n
			buf.Reset()
			line = trimmed
		}
		cont := strings.HasSuffix(line, `\`)
		if cont {
			line = line[:len(line)-1]
		}
		buf.WriteString(line)
		if cont {
			continue
		}
		op, args := strings.TrimSpace(buf.String()), ""
		if k := strings.IndexAny(op, " \t"); k >= 0 {
			op, args = op[:k], op[k+1:]
		}
		out = append(out, dfInstruction{line: start, op: strings.ToUpper(op), args: strings.TrimSpace(args)})
		start = 0
	}
	if start != 0 {
		return nil, dfErr(start, "the file ends inside a line continuation")
	}
	if len(out) == 0 {
		return nil, errors.New("Dockerfile: no instructions")
	}
	return out, nil
}

// parseDockerfile parses src into stages, substituting ARG and ENV values
// where Docker does (FROM, ENV, ARG, COPY, USER, WORKDIR, VOLUME, EXPOSE;
// RUN's shell does its own when the command is replayed).
func parseDockerfile(src string) (*dockerfile, error) {
	ins, err := dfInstructions(src)
	if err != nil {
		return nil, err
	}
	d := &dockerfile{}
	global := map[string]string{} // ARGs before the first FROM
	var st *dfStage
	for _, in := range ins {
		if st == nil && in.op != "FROM" && in.op != "ARG" {
			return nil, dfErr(in.line, "%s before the first FROM", in.op)
		}
		scope := global
		if st != nil {
			scope = st.vars
		}
		words := func() ([]string, error) {
			w, err := splitWords(in.args, scope, false)
			if err != nil {
				return nil, dfErr(in.line, "%s: %v", in.op, err)
			}
			return w, nil
		}
		switch in.op {
		case "FROM":
			w, err := words()
			if err != nil {
				return nil, err
			}
			for len(w) > 0 && strings.HasPrefix(w[0], "--platform=") {
				w = w[1:]
			}
			s := &dfStage{line: in.line, index: len(d.stages), vars: map[string]string{}}
			switch {
			case len(w) == 1:
				s.image = w[0]
			case len(w) == 3 && strings.EqualFold(w[1], "AS"):
				s.image, s.name = w[0], w[2]
			default:
				return nil, dfErr(in.line, "FROM %q: want FROM image [AS name]", in.args)
			}
			if s.image == "" {
				return nil, dfErr(in.line, "FROM has an empty image (an ARG without a default?)")
			}
			d.stages = append(d.stages, s)
			st = s
		case "ARG":
			w, err := words()
			if err != nil {
				return nil, err
			}
			if len(w) == 0 {
				return nil, dfErr(in.line, "ARG without a name")
			}
			for _, a := range w {
				k, v, hasDefault := strings.Cut(a, "=")
				if !validVarName(k) {
					return nil, dfErr(in.line, "ARG %q: not a variable name", k)
				}
				if !hasDefault && st != nil {
					v = global[k] // a global ARG's default, re-declared in the stage
				}
				scope[k] = v
			}
		case "ENV":
			w, err := words()
			if err != nil {
				return nil, err
			}
			var kvs []dfKV
			if len(w) >= 2 && !strings.Contains(w[0], "=") { // legacy ENV key value
				kvs = []dfKV{{w[0], strings.Join(w[1:], " ")}}
			} else {
				for _, a := range w {
					k, v, ok := strings.Cut(a, "=")
					if !ok || !validVarName(k) {
						return nil, dfErr(in.line, "ENV %q: want NAME=value", a)
					}
					kvs = append(kvs, dfKV{k, v})
				}
			}
			if len(kvs) == 0 {
				return nil, dfErr(in.line, "ENV without a variable")
			}
			for _, kv := range kvs {
				st.vars[kv.k] = kv.v
				st.env = append(st.env, kv)
			}
		case "WORKDIR":
			w, err := words()
			if err != nil {
				return nil, err
			}
			if len(w) != 1 {
				return nil, dfErr(in.line, "WORKDIR wants one path")
			}
			if path.IsAbs(w[0]) {
				st.workdir = path.Clean(w[0])
			} else {
				st.workdir = path.Join("/", st.workdir, w[0])
			}
		case "RUN":
			r := dfRun{line: in.line, vars: maps.Clone(st.vars), workdir: st.workdir}
			args := in.args
			for strings.HasPrefix(args, "--") { // --mount=type=cache,… and the like change no output
				_, args, _ = strings.Cut(args, " ")
				args = strings.TrimSpace(args)
			}
			if strings.HasPrefix(args, "[") {
				if err := json.Unmarshal([]byte(args), &r.argv); err != nil || len(r.argv) == 0 {
					return nil, dfErr(in.line, "RUN [...] is not a JSON array of strings: %v", err)
				}
			} else {
				r.shell = args
			}
			st.runs = append(st.runs, r)
		case "COPY":
			w, err := words()
			if err != nil {
				return nil, err
			}
			c := dfCopy{line: in.line, workdir: st.workdir}
			for len(w) > 0 && strings.HasPrefix(w[0], "--") {
				k, v, _ := strings.Cut(w[0], "=")
				switch k {
				case "--from":
					c.from = v
				case "--chown":
					c.chown = v
				case "--chmod":
					c.chmod = v
				case "--link":
				default:
					return nil, dfErr(in.line, "COPY flag %s is not understood by this test", k)
				}
				w = w[1:]
			}
			if len(w) == 1 && strings.HasPrefix(w[0], "[") {
				var list []string
				if err := json.Unmarshal([]byte(strings.Join(w, " ")), &list); err != nil {
					return nil, dfErr(in.line, "COPY [...] is not a JSON array: %v", err)
				}
				w = list
			}
			if len(w) < 2 {
				return nil, dfErr(in.line, "COPY wants at least one source and a destination")
			}
			c.srcs, c.dst = w[:len(w)-1], w[len(w)-1]
			st.copies = append(st.copies, c)
		case "USER":
			w, err := words()
			if err != nil {
				return nil, err
			}
			if len(w) != 1 || w[0] == "" {
				return nil, dfErr(in.line, "USER wants one user[:group]")
			}
			st.user, st.userLine = w[0], in.line
		case "VOLUME":
			list, err := jsonOrWords(in, scope)
			if err != nil {
				return nil, err
			}
			for _, v := range list {
				st.volumes = append(st.volumes, path.Clean(v))
			}
		case "EXPOSE":
			w, err := words()
			if err != nil {
				return nil, err
			}
			st.expose = append(st.expose, w...)
		case "HEALTHCHECK":
			h, err := parseHealthcheck(in)
			if err != nil {
				return nil, err
			}
			st.health, st.healthLine = h, in.line
		case "ENTRYPOINT", "CMD":
			argv, err := execForm(in)
			if err != nil {
				return nil, err
			}
			if in.op == "ENTRYPOINT" {
				st.entrypoint, st.entrypointSet, st.entrypointLine = argv, true, in.line
			} else {
				st.cmd, st.cmdSet, st.cmdLine = argv, true, in.line
			}
		case "LABEL":
			// metadata only
		default:
			return nil, dfErr(in.line, "instruction %s is not understood by this test; teach e2e/dockerfile_test.go what it does to the image", in.op)
		}
	}
	if len(d.stages) == 0 {
		return nil, errors.New("Dockerfile: no FROM")
	}
	return d, nil
}

// execForm parses CMD, ENTRYPOINT or HEALTHCHECK CMD arguments, which must
// be a JSON array: the shell form runs /bin/sh -c, and the image has no
// shell.
func execForm(in dfInstruction) ([]string, error) {
	if !strings.HasPrefix(in.args, "[") {
		return nil, dfErr(in.line, "%s %s is in shell form: it needs /bin/sh, which a distroless image does not have; use the exec form [\"...\"]", in.op, in.args)
	}
	var argv []string
	if err := json.Unmarshal([]byte(in.args), &argv); err != nil {
		return nil, dfErr(in.line, "%s %s: not a JSON array of strings (Docker would run it with /bin/sh, which the image lacks): %v", in.op, in.args, err)
	}
	return argv, nil
}

func jsonOrWords(in dfInstruction, vars map[string]string) ([]string, error) {
	if strings.HasPrefix(in.args, "[") {
		var list []string
		if err := json.Unmarshal([]byte(in.args), &list); err != nil {
			return nil, dfErr(in.line, "%s %s: not a JSON array of strings: %v", in.op, in.args, err)
		}
		for i, s := range list {
			e, err := expandAll(s, vars)
			if err != nil {
				return nil, dfErr(in.line, "%s: %v", in.op, err)
			}
			list[i] = e
		}
		return list, nil
	}
	w, err := splitWords(in.args, vars, false)
	if err != nil {
		return nil, dfErr(in.line, "%s: %v", in.op, err)
	}
	return w, nil
}

// parseHealthcheck reads HEALTHCHECK [--flag=value…] CMD [...], with
// Docker's defaults: interval 30s, timeout 30s, start period 0, retries 3.
func parseHealthcheck(in dfInstruction) (*dfHealth, error) {
	h := &dfHealth{interval: 30 * time.Second, timeout: 30 * time.Second, startInterval: 5 * time.Second, retries: 3}
	rest := in.args
	for strings.HasPrefix(rest, "--") {
		var flag string
		flag, rest, _ = strings.Cut(rest, " ")
		rest = strings.TrimSpace(rest)
		k, v, _ := strings.Cut(flag, "=")
		if k == "--retries" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, dfErr(in.line, "HEALTHCHECK --retries=%s: want a positive number", v)
			}
			h.retries = n
			continue
		}
		dst := map[string]*time.Duration{"--interval": &h.interval, "--timeout": &h.timeout,
			"--start-period": &h.startPeriod, "--start-interval": &h.startInterval}[k]
		if dst == nil {
			return nil, dfErr(in.line, "HEALTHCHECK flag %s is not understood by this test", k)
		}
		dur, err := time.ParseDuration(v)
		if err != nil {
			return nil, dfErr(in.line, "HEALTHCHECK %s: %v", flag, err)
		}
		*dst = dur
	}
	word, rest, _ := strings.Cut(rest, " ")
	switch strings.ToUpper(word) {
	case "NONE":
		return nil, dfErr(in.line, "HEALTHCHECK NONE: the image has no health check")
	case "CMD":
	default:
		return nil, dfErr(in.line, "HEALTHCHECK %s: want HEALTHCHECK [flags] CMD [...]", in.args)
	}
	argv, err := execForm(dfInstruction{line: in.line, op: "HEALTHCHECK CMD", args: strings.TrimSpace(rest)})
	if err != nil {
		return nil, err
	}
	if len(argv) == 0 {
		return nil, dfErr(in.line, "HEALTHCHECK CMD [] runs nothing")
	}
	h.argv = argv
	return h, nil
}

func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c != '_' && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && !(i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// shellToken is a word or, in a RUN line, a control operator (&& or ;).
type shellToken struct {
	s  string
	op bool
}

// splitWords splits s into words the way Docker splits an instruction's
// arguments: whitespace separates, quotes group, a backslash escapes, and
// $NAME, ${NAME}, ${NAME:-word} and ${NAME:+word} are substituted from
// vars (not inside single quotes).
func splitWords(s string, vars map[string]string, shell bool) ([]string, error) {
	toks, err := tokenize(s, vars, shell)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range toks {
		if t.op {
			return nil, fmt.Errorf("unexpected %q", t.s)
		}
		out = append(out, t.s)
	}
	return out, nil
}

// expandAll substitutes variables in s without splitting it.
func expandAll(s string, vars map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '$' {
			n, err := expandAt(s, i, vars, &b, false)
			if err != nil {
				return "", err
			}
			i = n
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String(), nil
}

// tokenize is splitWords that also recognises, with shell set, the control
// operators && and ; and refuses the rest of the shell's syntax (pipes,
// redirections, subshells, command substitution), which the test does not
// replay.
func tokenize(s string, vars map[string]string, shell bool) ([]shellToken, error) {
	var toks []shellToken
	var w strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			toks = append(toks, shellToken{s: w.String()})
			w.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
			i++
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("unterminated single quote")
			}
			w.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 2
		case c == '"':
			inWord = true
			i++
			for {
				if i >= len(s) {
					return nil, errors.New("unterminated double quote")
				}
				c := s[i]
				if c == '"' {
					i++
					break
				}
				if c == '\\' && i+1 < len(s) && strings.IndexByte("$\"\\`", s[i+1]) >= 0 {
					w.WriteByte(s[i+1])
					i += 2
					continue
				}
				if c == '`' && shell {
					return nil, errors.New("command substitution (`…`) is not replayed by this test")
				}
				if c == '$' {
					n, err := expandAt(s, i, vars, &w, shell)
					if err != nil {
						return nil, err
					}
					i = n
					continue
				}
				w.WriteByte(c)
				i++
			}
		case c == '\\':
			if i+1 < len(s) {
				w.WriteByte(s[i+1])
				inWord = true
			}
			i += 2
		case c == '$':
			inWord = true
			n, err := expandAt(s, i, vars, &w, shell)
			if err != nil {
				return nil, err
			}
			i = n
		case shell && strings.HasPrefix(s[i:], "&&"):
			flush()
			toks = append(toks, shellToken{s: "&&", op: true})
			i += 2
		case shell && c == ';':
			flush()
			toks = append(toks, shellToken{s: ";", op: true})
			i++
		case shell && (strings.IndexByte("|&<>()`", c) >= 0 || (c == '#' && !inWord)):
			return nil, fmt.Errorf("shell syntax %q (at %q) is not replayed by this test", string(c), tail(s[i:], 30))
		default:
			w.WriteByte(c)
			inWord = true
			i++
		}
	}
	flush()
	return toks, nil
}

// expandAt substitutes the variable reference starting at s[i] ('$') into
// w and returns the index after it.
func expandAt(s string, i int, vars map[string]string, w *strings.Builder, shell bool) (int, error) {
	j := i + 1
	switch {
	case j < len(s) && s[j] == '{':
		end := strings.IndexByte(s[j:], '}')
		if end < 0 {
			return 0, fmt.Errorf("unterminated ${ in %q", tail(s[i:], 30))
		}
		inner := s[j+1 : j+end]
		name, word, mod := inner, "", ""
		if k := strings.Index(inner, ":"); k >= 0 {
			name, mod, word = inner[:k], inner[k:min(k+2, len(inner))], inner[min(k+2, len(inner)):]
		}
		if !validVarName(name) || (mod != "" && mod != ":-" && mod != ":+") {
			return 0, fmt.Errorf("substitution ${%s} is not understood by this test", inner)
		}
		v := vars[name]
		switch {
		case mod == ":-" && v == "":
			v = word
		case mod == ":+":
			if v != "" {
				v = word
			}
		}
		w.WriteString(v)
		return j + end + 1, nil
	case j < len(s) && (s[j] == '_' || (s[j] >= 'A' && s[j] <= 'Z') || (s[j] >= 'a' && s[j] <= 'z')):
		k := j
		for k < len(s) && validVarName(s[j:k+1]) {
			k++
		}
		w.WriteString(vars[s[j:k]])
		return k, nil
	case shell && j < len(s) && s[j] == '(':
		return 0, errors.New("command substitution $(…) is not replayed by this test")
	}
	w.WriteByte('$')
	return j, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// TestDockerfileParser: the parser reads what the Dockerfile writes and
// says plainly what it cannot read. (TestImageFilesystem runs what it
// reads; this part needs no root.)
func TestDockerfileParser(t *testing.T) {
	df, err := parseDockerfile(`# syntax=docker/dockerfile:1
ARG GO=1.26
FROM golang:${GO}-bookworm AS build
WORKDIR /src
ARG VERSION=dev
ARG GO
RUN CGO_ENABLED=0 go build -ldflags "-X main.version=${VERSION}" \
 # a comment inside a continuation
 -o /out/x ./cmd/x && mkdir -p /out/data
FROM scratch
COPY --from=build --chown=1:2 /out/x /x
ENV A=1 \
    B="two words" C=${A}
USER 1:2
VOLUME ["/data"]
HEALTHCHECK --timeout=3s CMD ["/x", "check"]
ENTRYPOINT ["/x"]
CMD ["serve"]
`)
	if err != nil {
		t.Fatal(err)
	}
	b, f := df.stages[0], df.final()
	if b.image != "golang:1.26-bookworm" || b.name != "build" || b.vars["GO"] != "1.26" || b.workdir != "/src" {
		t.Errorf("build stage %+v", b)
	}
	if len(b.runs) != 1 || !strings.Contains(b.runs[0].shell, "-o /out/x ./cmd/x && mkdir") || b.runs[0].vars["VERSION"] != "dev" {
		t.Errorf("RUN %+v", b.runs)
	}
	toks, err := tokenize(b.runs[0].shell, b.runs[0].vars, true)
	if err != nil || len(toks) != 12 || toks[4].s != "-X main.version=dev" || !toks[8].op {
		t.Errorf("RUN words %v: %v", toks, err)
	}
	if got := fmt.Sprint(f.env); got != "[{A 1} {B two words} {C }]" { // C sees A as it was before the line
		t.Errorf("ENV %s", got)
	}
	if c := f.copies[0]; c.from != "build" || c.chown != "1:2" || c.srcs[0] != "/out/x" || c.dst != "/x" {
		t.Errorf("COPY %+v", c)
	}
	if f.user != "1:2" || f.volumes[0] != "/data" || f.health.timeout != 3*time.Second || f.health.interval != 30*time.Second ||
		fmt.Sprint(f.health.argv, f.entrypoint, f.cmd) != "[/x check] [/x] [serve]" {
		t.Errorf("final stage %+v %+v", f, f.health)
	}

	for _, bad := range []struct{ src, want string }{
		{"FROM a\nCMD serve\n", `Dockerfile:2: CMD serve is in shell form: it needs /bin/sh`},
		{"FROM a\nHEALTHCHECK CMD /x healthcheck\n", `Dockerfile:2: HEALTHCHECK CMD /x healthcheck is in shell form`},
		{"FROM a\nHEALTHCHECK NONE\n", `Dockerfile:2: HEALTHCHECK NONE`},
		{"FROM a\nSHELL [\"/bin/bash\"]\n", `Dockerfile:2: instruction SHELL is not understood`},
		{"FROM a\nRUN x \\\n", `Dockerfile:2: the file ends inside a line continuation`},
		{"FROM a\nCOPY --parents a b\n", `Dockerfile:2: COPY flag --parents`},
		{"USER 1\nFROM a\n", `Dockerfile:1: USER before the first FROM`},
	} {
		if _, err := parseDockerfile(bad.src); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: got %v, want %q", bad.src, err, bad.want)
		}
	}
	if _, err := tokenize(`go build -o x . | tee log`, nil, true); err == nil || !strings.Contains(err.Error(), `shell syntax "|"`) {
		t.Errorf("a pipe: %v", err)
	}
}
