#!/usr/bin/env bash
# The README's "from a clone" path: after `npm run build`, a plain `npm pack` of the clone gives
# one tarball that contains the binaries built here (perf-event-open.*.node next to package.json,
# where the loader looks first). Installs it into an empty project and runs the demo there with
# no Rust toolchain on PATH, as CommonJS and as ESM. Needs a built addon (npm run build).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
platform=linux-x64-gnu
bin=$(node "$root/scripts/lib/variants.js" binary-name "$platform" "$(node -p "require('$root/variants.json').default")")

[[ -f "$root/$bin" && -f "$root/dist/index.js" ]] || { echo "build first: npm run build" >&2; exit 1; }

echo "== npm pack (a clone, after npm run build)"
(cd "$root" && npm pack --silent --pack-destination "$work" >/dev/null)
tgz=$(ls "$work"/perf-event-open-[0-9]*.tgz)
echo "   $(stat -c %s "$tgz") bytes  $(basename "$tgz")"
tar -tzf "$tgz" | sed 's/^/   /' | grep -v '/dist/.*\.d\.ts$' | head -40
tar -tzf "$tgz" | grep -x "package/$bin" >/dev/null || { echo "the tarball has no $bin" >&2; exit 1; }

echo "== install into an empty project"
app="$work/app"
mkdir "$app"
(cd "$app" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund "$tgz")
cp "$root/examples/count-function.js" "$app/"

echo "== run the demo without a Rust toolchain"
node_dir=$(dirname "$(command -v node)")
clean_path="$node_dir:/usr/bin:/bin"
if PATH="$clean_path" command -v cargo >/dev/null; then
  echo "cargo is still on the clean PATH ($clean_path); cannot prove the install needs no toolchain" >&2
  exit 1
fi
(cd "$app" && env -i PATH="$clean_path" HOME="$HOME" node count-function.js)
(cd "$app" && env -i PATH="$clean_path" HOME="$HOME" node -e "
const { buildInfo } = require('perf-event-open')
const info = buildInfo()
console.log('buildInfo:', JSON.stringify(info))
if (!info.path.includes('node_modules/perf-event-open/perf-event-open.$platform')) { console.error('loaded from outside the installed tarball'); process.exit(1) }
")
(cd "$app" && env -i PATH="$clean_path" HOME="$HOME" node --input-type=module -e "
import { Counter, CounterGroup, PerfEventError, buildInfo } from 'perf-event-open'
console.log('ESM import:', typeof Counter, typeof CounterGroup, typeof PerfEventError, buildInfo().variant)
")
echo "pack-and-install: ok"
