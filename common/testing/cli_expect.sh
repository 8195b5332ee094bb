#!/usr/bin/env bash
# Shared by the packages' cli_errors_test.sh: run a binary with bad input and check the error
# contract (exit status 1, exactly one "error: " line, containing the expected text).
#   source common/testing/cli_expect.sh
#   expect_error "--bits must be in [1, 1048576], got 0" icnn/tox21 --bits=0
failures=0

# The binary's path inside the test's runfiles.
bin_path() { echo "${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-dl_papers}/$1"; }

expect_error() {
  local want="$1" bin="$2"; shift 2
  local out rc
  out="$("$(bin_path "$bin")" "$@" 2>&1)"; rc=$?
  local errors; errors="$(grep -c '^error: ' <<<"$out")"
  if [[ $rc -ne 1 || $errors -ne 1 ]] || ! grep -qF -- "$want" <<<"$(grep '^error: ' <<<"$out")"; then
    echo "FAIL: $bin $* -> exit $rc, $errors error lines; want exit 1 and one error line with: $want"
    tail -n 5 <<<"$out" | sed 's/^/    /'
    failures=$((failures + 1))
  else
    echo "ok: $bin $*"
  fi
}

finish() {
  ((failures == 0)) || { echo "$failures case(s) failed"; exit 1; }
  echo "all cases passed"
}
