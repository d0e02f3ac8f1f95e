# Shared by the CLI test scripts (sourced): runs the rest of the script in a scratch directory, removed on exit.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
