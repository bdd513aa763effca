#!/usr/bin/env bash
# Installs the package as a user would: npm pack the root and the x64 platform package,
# install both tarballs into an empty project, and run the demo there with no Rust
# toolchain on PATH. Needs a built addon (npm run build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
platform=linux-x64-gnu
bin="perf-event-open.$platform.node"

[[ -f "$root/$bin" && -f "$root/dist/index.js" ]] || { echo "build first: npm run build" >&2; exit 1; }

echo "== npm pack (root and npm/$platform)"
(cd "$root" && npm pack --silent --pack-destination "$work" >/dev/null)
stage="$work/stage-$platform"
cp -r "$root/npm/$platform" "$stage"
cp "$root/$bin" "$stage/"
(cd "$stage" && npm pack --silent --pack-destination "$work" >/dev/null)
ls -l "$work"/*.tgz | awk '{print "   " $5 " bytes  " $NF}'
tar -tzf "$work"/perf-event-open-[0-9]*.tgz | sed 's/^/   root: /' | head -40

echo "== install into an empty project (optional platform packages from the registry omitted)"
app="$work/app"
mkdir "$app"
(cd "$app" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund --omit=optional \
  "$work"/perf-event-open-[0-9]*.tgz "$work/perf-event-open-$platform-"*.tgz)
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
if (!info.path.includes('node_modules/perf-event-open-$platform/')) { console.error('loaded from outside the installed platform package'); process.exit(1) }
")
(cd "$app" && env -i PATH="$clean_path" HOME="$HOME" node --input-type=module -e "
import { Counter, CounterGroup, PerfEventError, buildInfo } from 'perf-event-open'
console.log('ESM import:', typeof Counter, typeof CounterGroup, typeof PerfEventError, buildInfo().variant)
")
echo "pack-and-install: ok"
