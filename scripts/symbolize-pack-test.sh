#!/usr/bin/env bash
# Packs the symbolizer (perf-event-open-symbolize + its linux-x64-gnu platform package), installs both
# into an empty project as a user would, symbolizes an address of the running node and draws a flame
# graph there, and prints the sizes a user gets. Needs npm run build:symbolize.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
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
