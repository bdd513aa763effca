#!/usr/bin/env bash
# Packs the symbolizer (perf-event-open-symbolize + its linux-x64-gnu platform package), installs both
# into an empty project as a user would, symbolizes an address of the running node and draws a flame
# graph there, and prints the sizes a user gets. Then installs them beside the packed perf-event-open
# (and its x64 package) and runs examples/profile-hot.js there without Rust on PATH: the facade finds
# the symbolizer as an installed package. Needs npm run build and npm run build:symbolize.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
platform=linux-x64-gnu
bin="perf-event-open-symbolize.$platform.node"
[[ -f "$root/symbolize/$bin" ]] || { echo "build first: npm run build:symbolize" >&2; exit 1; }

(cd "$root/symbolize" && npm pack --silent --pack-destination "$work" >/dev/null)
stage="$work/stage"
cp -r "$root/symbolize/npm/$platform" "$stage"
cp "$root/symbolize/$bin" "$stage/"
(cd "$stage" && npm pack --silent --pack-destination "$work" >/dev/null)
ls -l "$work"/*.tgz | awk '{print "   packed: " $5 " bytes  " $NF}'
app="$work/app"
mkdir "$app"
(cd "$app" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund --omit=optional "$work"/*.tgz)
echo "   stripped .node: $(stat -c %s "$app/node_modules/perf-event-open-symbolize-$platform/$bin") bytes"
echo "   installed: $(du -sb "$app/node_modules/perf-event-open-symbolize" "$app/node_modules/perf-event-open-symbolize-$platform" | awk '{s+=$1} END {print s}') bytes (both packages)"
(cd "$app" && node -e "
const s = require('perf-event-open-symbolize')
const fs = require('node:fs')
// An address in the middle of node's own text (its largest executable mapping).
const [start, end] = fs.readFileSync('/proc/self/maps', 'utf8').split('\n')
  .filter((l) => / r-xp /.test(l) && l.endsWith(fs.realpathSync(process.execPath)))
  .map((l) => l.split(' ')[0].split('-').map((x) => BigInt('0x' + x)))
  .sort((a, b) => (b[1] - b[0] > a[1] - a[0] ? 1 : -1))[0]
s.symbolizeProcess(process.pid, BigUint64Array.of((start + end) / 2n)).then(async ([r]) => {
  if (!r.name) throw new Error('no name for an address in node: ' + JSON.stringify(r))
  const svg = await s.flameGraph('main;work;leaf 3\nmain;other 1\n', { title: 't' })
  if (!svg.includes('<svg') || !svg.includes('leaf')) throw new Error('bad svg')
  console.log('   symbolized the middle of node\'s text as ' + r.name + '; flame graph ' + svg.length + ' bytes; ' + s.symbolizerInfo())
})
")

echo "== profile with the packed perf-event-open + symbolizer (no Rust on PATH)"
[[ -f "$root/perf-event-open.$platform.node" && -f "$root/dist/index.js" ]] || { echo "build first: npm run build" >&2; exit 1; }
(cd "$root" && npm pack --silent --pack-destination "$work" >/dev/null)
stage2="$work/stage-main"
cp -r "$root/npm/$platform" "$stage2"
cp "$root/perf-event-open.$platform.node" "$stage2/"
(cd "$stage2" && npm pack --silent --pack-destination "$work" >/dev/null)
app2="$work/app2"
mkdir "$app2"
(cd "$app2" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund --omit=optional "$work"/*.tgz)
cp "$root/examples/profile-hot.js" "$app2/"
node_dir=$(dirname "$(command -v node)")
clean_path="$node_dir:/usr/bin:/bin"
(cd "$app2" && env -i PATH="$clean_path" HOME="$HOME" node --perf-basic-prof profile-hot.js out | tail -5)
for f in hot.svg hot.pb.gz hot.folded hot.cpuprofile hot.json; do [[ -s "$app2/out/$f" ]] || { echo "missing $f" >&2; exit 1; }; done
rm -f "$app2"/isolate-*-v8.log
echo "== without the symbolizer: a clear error"
rm -rf "$app2/node_modules/perf-event-open-symbolize" "$app2/node_modules/perf-event-open-symbolize-$platform" "$app2/node_modules/perf-event-open/symbolize"
(cd "$app2" && env -i PATH="$clean_path" HOME="$HOME" node -e "
require('perf-event-open').profile(() => 1).then(() => { console.error('expected ERR_SYMBOLIZER_MISSING'); process.exit(1) },
  (e) => { if (e.code !== 'ERR_SYMBOLIZER_MISSING') throw e; console.log('   ' + e.code + ': ' + e.hint.split('.')[0]) })")
echo "symbolize pack and install: ok"
