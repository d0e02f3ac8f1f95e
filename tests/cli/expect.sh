# Shared by the CLI test scripts (sourced): expect_error "message part" fhenn-arguments... checks that the command
# exits non-zero and prints the message part; each miss is reported and counted in $failures. Needs $fhenn.
failures=0
expect_error() {
  local expected="$1"; shift
  local output status
  output="$("$fhenn" "$@" 2>&1)"; status=$?
  if [ "$status" -eq 0 ]; then
    echo "FAIL (exit 0): fhenn $*" >&2; failures=$((failures + 1))
  elif ! grep -qF -- "$expected" <<< "$output"; then
    echo "FAIL (no '$expected'): fhenn $* said: $output" >&2; failures=$((failures + 1))
  fi
}
