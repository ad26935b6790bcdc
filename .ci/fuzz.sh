#!/usr/bin/env bash
# Runs every Go fuzz target in the module for a bounded time each.
#
#   .ci/fuzz.sh                 10 s per target (what .ci/run does)
#   .ci/fuzz.sh --time 5m       longer, for a real fuzzing session
#   .ci/fuzz.sh --list          only list the targets
#   FUZZTIME=1m .ci/fuzz.sh     the same as --time 1m
#
# Targets are discovered, not listed here: every package whose tests define
# a func Fuzz..., then `go test -list '^Fuzz'` in it for the exact names, so a
# new fuzz target runs in CI without editing this file. A target that finds
# a failing input fails the run; Go writes the input to
# <package>/testdata/fuzz/<Target>/ — check it in with the fix, so it stays
# in the seed corpus as a regression test (plain `go test` runs it).
set -euo pipefail

cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-10s}"
list_only=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --time) fuzztime="$2"; shift 2 ;;
    --time=*) fuzztime="${1#--time=}"; shift ;;
    --list) list_only=true; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# Packages with a fuzz target in their tests (a cheap filter before
# compiling anything), as import paths.
mapfile -t dirs < <(grep -rlE '^func Fuzz[A-Z0-9_]\w*\(\w+ \*testing\.F\)' --include='*_test.go' . \
  | grep -v '/node_modules/' | xargs -r -n1 dirname | sort -u)
if [[ ${#dirs[@]} -eq 0 ]]; then
  echo "no fuzz targets found" >&2
  exit 1
fi

targets=()
for dir in "${dirs[@]}"; do
  pkg=$(go list "$dir")
  while read -r name; do
    [[ "$name" == Fuzz* ]] && targets+=("$pkg $name")
  done < <(go test -list '^Fuzz' "$dir")
done

echo "${#targets[@]} fuzz targets, ${fuzztime} each"
if $list_only; then
  printf '  %s\n' "${targets[@]}"
  exit 0
fi

# fuzz_one runs one target; its output is kept in $log.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fuzz_one() {
  # -run '^$': only the fuzz target, not the package's other tests.
  go test -run '^$' -fuzz "^${2}\$" -fuzztime "$fuzztime" "$1" 2>&1 | tee "$log"
  return "${PIPESTATUS[0]}"
}
# spurious reports the Go fuzz coordinator's shutdown race (go.dev/issue/75804,
# fixed in Go 1.27, not in 1.26.x): a bare "context deadline exceeded" at the
# end of -fuzztime with no failing input written. It is not a finding.
spurious() {
  grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written to' "$log"
}

module=$(go list -m)
failed=()
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  dir=".${pkg#"$module"}"
  echo "==> $name ($pkg)"
  if fuzz_one "$dir" "$name"; then
    continue
  fi
  if spurious; then
    echo "(the fuzz coordinator's deadline race, go.dev/issue/75804: no failing input; running $name again)"
    if fuzz_one "$dir" "$name" || spurious; then
      continue
    fi
  fi
  failed+=("$name ($pkg)")
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing found failures in:" >&2
  printf '  %s\n' "${failed[@]}" >&2
  echo "the failing inputs are in <package>/testdata/fuzz/<Target>/; fix the code and check them in" >&2
  exit 1
fi
echo "all ${#targets[@]} fuzz targets ran ${fuzztime} without a failure"
