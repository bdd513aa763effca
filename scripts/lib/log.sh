# Sourced by the build and test scripts: log (a step with the seconds since the start), run (prints
# a command, then runs it) and die (an error on stderr, exit 1).
START=$SECONDS
log() { printf '\n==> [%3ss] %s\n' "$((SECONDS - START))" "$*"; }
run() {
  printf '+ %s\n' "$*"
  "$@"
}
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}
