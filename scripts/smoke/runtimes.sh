#!/usr/bin/env bash
# Runs scripts/smoke/runtime.cjs (count task-clock, read a stat, read a group, drain a sampler)
# on every runtime the package supports besides the Node.js that runs the test suite: Node.js
# 18, 22 and 24, Bun and Deno, each from npm (`npx -p node@X`, `npx bun`, `npx deno`), against
# the built addon and dist/. Deno runs with the minimum permissions the README documents.
# Needs a build (npm run build). About 40 s with a cold npm cache, 10 s warm.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ -f dist/index.js ]] || { echo "build first: npm run build" >&2; exit 1; }
export NO_COLOR=1 npm_config_yes=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

NODES=(18.20.8 22.23.3 24.21.0)
BUN=1.4.5
DENO=2.9.6
# What the README's Deno section says: read the package, os.release(), the loader's variables, FFI.
DENO_FLAGS=(--allow-read --allow-sys=osRelease --allow-env=PERF_EVENT_OPEN_BINARY,PERF_EVENT_OPEN_VARIANT --allow-ffi)

fail=0
run() {
  local name=$1; shift
  if ! out=$("$@" scripts/smoke/runtime.cjs 2>&1); then
    echo "FAIL $name"; echo "$out" | sed 's/^/  /' | tail -20; fail=1
  else
    echo "$out" | tail -1
  fi
}
for v in "${NODES[@]}"; do run "node $v" npx -p "node@$v" node; done
run "bun $BUN" npx "bun@$BUN"
run "deno $DENO" npx "deno@$DENO" run "${DENO_FLAGS[@]}"
exit $fail
