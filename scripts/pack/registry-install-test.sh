#!/usr/bin/env bash
# Installs perf-event-open as a user would, from a registry: packs the release's tarballs (the root
# package with the optionalDependencies `npm-packages.js --pre-publish` writes, one package per
# target x kernel variant, perf-event-open-symbolize and its one package per target), serves them on
# 127.0.0.1 (scripts/pack/local-registry.js; nothing else is reachable through it), then in empty projects
# runs `npm install perf-event-open`, pnpm, bun, npm 8 (which ignores `libc`) and Deno
# (`npm:perf-event-open` with the README's permissions), checks which variant loads, runs the demo,
# profiles a function (profile(), symbolized by the installed symbolizer) into a .pb.gz, and reports
# the bytes of binaries on disk: the main addon's and the symbolizer's separately. Last, a user on
# an older kernel's path: installing a variant package by name makes the loader prefer it.
# Binaries: the ones built here (npm run build, npm run build:symbolize; npm run build:variants for
# other variants) are real; every other package gets a copy of this machine's binary of the same
# addon as a same-size stand-in (never loaded here: npm, pnpm and bun skip other targets by
# cpu/libc). Needs npm run build and npm run build:symbolize.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
server=
cleanup() { [[ -n $server ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false npm_config_yes=true NO_COLOR=1
PNPM=10.34.8 BUN=1.4.5 NPM8=8.19.4 DENO=2.9.6
host=linux-x64-gnu
default=$(node -p "require('$root/variants.json').default")
hostbin="$root/$(node "$root/scripts/lib/variants.js" binary-name $host "$default")"
[[ -f $hostbin && -f $root/dist/index.js ]] || { echo "build first: npm run build" >&2; exit 1; }
symhost="$root/symbolize/perf-event-open-symbolize.$host.node"
[[ -f $symhost ]] || { echo "build first: npm run build:symbolize" >&2; exit 1; }
ver=$(node -p "require('$root/package.json').version")

echo "== stage the release (root package as published, npm/ with binaries)"
stage="$work/stage"
mkdir -p "$stage/scripts/lib" "$stage/scripts/pack" "$stage/lib/loading" "$stage/symbolize" "$work/tarballs"
cp -r "$root/dist" "$root/npm" "$stage/"
cp "$root"/{package.json,index.js,index.d.ts,variants.json,README.md,LICENSE} "$stage/"
cp -r "$root/symbolize/npm" "$root/symbolize"/{package.json,index.js,index.d.ts,LICENSE,README.md} "$stage/symbolize/"
cp "$root/scripts/lib/variants.js" "$stage/scripts/lib/"
cp "$root/scripts/pack/npm-packages.js" "$root/scripts/pack/symbolize-packages.js" "$stage/scripts/pack/"
cp "$root/lib/loading/naming.js" "$stage/lib/loading/"
stand_ins=0
while read -r platform variant; do
  bin=$(node "$root/scripts/lib/variants.js" binary-name "$platform" "$variant")
  dir="$stage/$(node "$root/scripts/lib/variants.js" package-dir "$platform" "$variant")"
  if [[ $platform == "$host" && -f "$root/$bin" ]]; then cp "$root/$bin" "$dir/"; echo "   real binary: $bin"
  else cp "$hostbin" "$dir/$bin"; stand_ins=$((stand_ins + 1)); fi
done < <(node -e "const v=require('$root/scripts/lib/variants.js'); for (const t of v.targets) for (const x of v.variants) console.log(t.platform, x.name)")
echo "   $stand_ins packages get a stand-in copy of $(basename "$hostbin")"
sym_stand_ins=0
for d in "$stage"/symbolize/npm/*/; do
  platform=$(basename "$d")
  if [[ $platform == "$host" ]]; then cp "$symhost" "$d/"; echo "   real binary: $(basename "$symhost")"
  else cp "$symhost" "$d/perf-event-open-symbolize.$platform.node"; sym_stand_ins=$((sym_stand_ins + 1)); fi
done
echo "   $sym_stand_ins symbolizer packages get a stand-in copy of $(basename "$symhost")"

echo "== the publish step refuses a platform package without its binary"
mv "$stage/npm/$host/$(basename "$hostbin")" "$work/held.node"
if (cd "$stage" && node scripts/pack/npm-packages.js --pre-publish >/dev/null 2>&1); then echo "pre-publish accepted a package without its .node" >&2; exit 1; fi
if (cd "$stage/npm/$host" && npm pack --silent --pack-destination "$work" >/dev/null 2>&1); then echo "npm pack accepted a platform package without its .node" >&2; exit 1; fi
mv "$work/held.node" "$stage/npm/$host/$(basename "$hostbin")"
symdir="$stage/symbolize/npm/$host"
mv "$symdir/$(basename "$symhost")" "$work/held.node"
if (cd "$stage" && node scripts/pack/npm-packages.js --pre-publish >/dev/null 2>&1); then echo "pre-publish accepted a symbolizer package without its .node" >&2; exit 1; fi
if (cd "$symdir" && npm pack --silent --pack-destination "$work" >/dev/null 2>&1); then echo "npm pack accepted a symbolizer package without its .node" >&2; exit 1; fi
mv "$work/held.node" "$symdir/$(basename "$symhost")"
echo "   refused (pre-publish and the package's prepack), for the main addon's and the symbolizer's packages"
(cd "$stage" && node scripts/pack/npm-packages.js --pre-publish | sed 's/^/   /')
for d in "$stage"/npm/*/ "$stage"/symbolize/npm/*/; do (cd "$d" && npm pack --silent --pack-destination "$work/tarballs" >/dev/null); done
(cd "$stage/symbolize" && npm pack --silent --pack-destination "$work/tarballs" >/dev/null)
(cd "$stage" && npm pack --silent --pack-destination "$work/tarballs" >/dev/null)
root_tgz="$work/tarballs/perf-event-open-$ver.tgz"
echo "   $(ls "$work/tarballs" | wc -l) tarballs; root $(stat -c %s "$root_tgz") bytes: $(tar -tzf "$root_tgz" | grep -c .) files, none a .node: $(tar -tzf "$root_tgz" | grep -c '\.node$' || true)"
tar -xzOf "$root_tgz" package/package.json | node -e "const p=JSON.parse(require('fs').readFileSync(0)); console.log('   optionalDependencies:', Object.keys(p.optionalDependencies).join(', '), '| os:', p.os ?? 'none')"
sym_tgz="$work/tarballs/perf-event-open-symbolize-$ver.tgz"
echo "   perf-event-open-symbolize $(stat -c %s "$sym_tgz") bytes: $(tar -tzf "$sym_tgz" | grep -c .) files, none a .node: $(tar -tzf "$sym_tgz" | grep -c '\.node$' || true)"

echo "== serve them on 127.0.0.1"
node "$root/scripts/pack/local-registry.js" "$work/tarballs" "$work/port" > "$work/registry.log" 2>&1 &
server=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
reg="http://127.0.0.1:$(cat "$work/port")/"
cat "$work/registry.log" | sed 's/^/   /'

# The clients, fetched from the public registry before any project points at the local one.
tool() { (cd "$work" && npx -p "$1" sh -c "command -v $2"); }
pnpm=$(tool "pnpm@$PNPM" pnpm)
bun=$(tool "bun@$BUN" bun)
npm8=$(tool "npm@$NPM8" npm)
deno=$(tool "deno@$DENO" deno)

# A fresh project using only this registry and its own caches.
project() {
  local app="$work/app-$1"
  mkdir -p "$app"
  printf 'registry=%s\ncache=%s\n' "$reg" "$work/cache-$1" > "$app/.npmrc"
  printf '{ "name": "app-%s", "version": "1.0.0", "private": true }\n' "$1" > "$app/package.json"
  cp "$root/examples/count-function.js" "$app/"
  # A tiny profile: 100 ms of this thread's CPU time (not wall time), symbolized by the installed
  # symbolizer, written as pprof.
  cat > "$app/tiny-profile.js" <<'JS'
const { profile } = require('perf-event-open')
const fs = require('node:fs')
const cpuNs = () => Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0])
function spin() { let x = 0; const end = cpuNs() + 1e8; while (cpuNs() < end) for (let i = 0; i < 1e4; i++) x += Math.sqrt(i); return x }
profile(spin).then(async (p) => {
  await p.write('tiny.pb.gz')
  const gz = fs.readFileSync('tiny.pb.gz')
  if (gz[0] !== 0x1f || gz[1] !== 0x8b) throw new Error('tiny.pb.gz is not gzip')
  const named = p.frames.filter((f) => f.kind === 'native' && f.name && !f.name.startsWith('0x')).length
  if (!p.samples.stack.length || !named) throw new Error(`expected samples and named native frames, got ${p.samples.stack.length} samples, ${named} named`)
  console.log(`${p.samples.stack.length} samples, ${p.frames.length} frames (${named} named native), tiny.pb.gz ${gz.length} bytes`)
})
JS
  echo "$app"
}
# Bytes of distinct .node files named $2 under $1/node_modules (hard links counted once).
node_bytes() { find "$1/node_modules" -name "$2" -type f -printf '%i %s\n' | sort -u | awk '{s += $2} END {print s + 0}'; }
node_count() { find "$1/node_modules" -name "$2" -type f -printf '%i\n' | sort -u | wc -l; }
node_names() { find "$1/node_modules" -name "$2" -type f -printf '%f\n' | sort -u | tr '\n' ' '; }
# Loads the package in $1 with runtime $2..., checks the variant, runs the demo, reports .node bytes.
check() {
  local app=$1 want=$2; shift 2
  (cd "$app" && "$@" -e "
    const { buildInfo } = require('perf-event-open')
    const i = buildInfo()
    console.log('   loaded', i.variant, 'from', i.path.replace(process.cwd() + '/', ''), i.fittingVariant ? '(fits this kernel: ' + i.fittingVariant + ')' : '')
    if (i.variant !== '$want' || !i.path.includes('node_modules')) { console.error('   expected variant $want from node_modules'); process.exit(1) }
  ")
  (cd "$app" && "$@" count-function.js | sed 's/^/   demo: /')
  (cd "$app" && "$@" tiny-profile.js | sed 's/^/   profile(): /')
  RESULT_BYTES=$(node_bytes "$app" 'perf-event-open.*.node')
  RESULT_SYM_BYTES=$(node_bytes "$app" 'perf-event-open-symbolize.*.node')
  echo "   on disk: main addon $(node_count "$app" 'perf-event-open.*.node') binaries, $RESULT_BYTES bytes ($(node_names "$app" 'perf-event-open.*.node'))"
  echo "            symbolizer $(node_count "$app" 'perf-event-open-symbolize.*.node') binaries, $RESULT_SYM_BYTES bytes ($(node_names "$app" 'perf-event-open-symbolize.*.node'))"
}

echo "== npm $(npm --version): npm install perf-event-open"
app=$(project npm)
(cd "$app" && npm install --silent perf-event-open)
check "$app" "$default" node
npm_bytes=$RESULT_BYTES npm_sym=$RESULT_SYM_BYTES

echo "== pnpm $PNPM: pnpm add perf-event-open"
app=$(project pnpm)
(cd "$app" && "$pnpm" add --silent --store-dir "$work/store-pnpm" perf-event-open >/dev/null)
check "$app" "$default" node
pnpm_bytes=$RESULT_BYTES pnpm_sym=$RESULT_SYM_BYTES

echo "== bun $BUN: bun add perf-event-open (and run with bun)"
app=$(project bun)
(cd "$app" && BUN_CONFIG_REGISTRY=$reg BUN_INSTALL_CACHE_DIR="$work/cache-bun" "$bun" add perf-event-open >/dev/null)
check "$app" "$default" "$bun"
bun_bytes=$RESULT_BYTES bun_sym=$RESULT_SYM_BYTES

echo "== npm $NPM8 (ignores libc): npm install perf-event-open"
app=$(project npm8)
(cd "$app" && "$npm8" install --silent perf-event-open)
check "$app" "$default" node
npm8_bytes=$RESULT_BYTES npm8_sym=$RESULT_SYM_BYTES

echo "== deno $DENO: import 'npm:perf-event-open' with the README's minimum permissions"
app=$(project deno)
echo '{ "nodeModulesDir": "auto" }' > "$app/deno.json"
cat > "$app/main.mjs" <<'JS'
import { Counter, buildInfo } from 'npm:perf-event-open'
const c = new Counter('task-clock')
const { stat } = c.measure(() => { let x = 0; for (let i = 0; i < 1e6; i++) x += i; return x })
c.close()
console.log(`   loaded ${buildInfo().variant}; task-clock ${stat.count} ns`)
JS
(cd "$app" && NPM_CONFIG_REGISTRY=$reg DENO_DIR="$work/cache-deno" "$deno" run --allow-read --allow-sys=osRelease \
  --allow-env=PERF_EVENT_OPEN_BINARY,PERF_EVENT_OPEN_VARIANT --allow-ffi main.mjs 2>&1 | grep -v '^Download\|^Initialize')
deno_bytes=$(node_bytes "$app" 'perf-event-open.*.node') deno_sym=$(node_bytes "$app" 'perf-event-open-symbolize.*.node')
echo "   on disk: main addon $(node_count "$app" 'perf-event-open.*.node') binaries, $deno_bytes bytes; symbolizer $(node_count "$app" 'perf-event-open-symbolize.*.node') binaries, $deno_sym bytes (Deno ignores libc)"

echo "== npm install --os=darwin --cpu=arm64 perf-event-open (as a dependency of a cross-platform project)"
app=$(project darwin)
(cd "$app" && npm install --silent --os=darwin --cpu=arm64 perf-event-open)
n=$(find "$app/node_modules" -name '*.node' | wc -l)
[[ -f $app/node_modules/perf-event-open/package.json && $n == 0 ]] || { echo "expected the package without binaries, got $n" >&2; exit 1; }
echo "   installed, no binary (the loader's 'works only on Linux' error covers it at run time)"

fit=$(node -e "const { candidateOrder } = require('$root/dist/loading/variants.js'); console.log(candidateOrder(require('os').release())[0].name)")
fitbin=$(node "$root/scripts/lib/variants.js" binary-name $host "$fit")
if [[ $fit != "$default" && -f "$root/$fitbin" ]]; then
  echo "== an explicit variant for this kernel: npm install perf-event-open perf-event-open-$host-$fit"
  app=$(project fit)
  (cd "$app" && npm install --silent perf-event-open "perf-event-open-$host-$fit")
  check "$app" "$fit" node
else
  echo "== (skipped the explicit-variant install: build $fit first with npm run build:variants $fit)"
fi

echo "main addon binaries on disk after a default install: npm ${npm_bytes} B, pnpm ${pnpm_bytes} B, bun ${bun_bytes} B, npm 8 ${npm8_bytes} B, deno ${deno_bytes} B (limit 3000000)"
echo "symbolizer binaries on disk:                         npm ${npm_sym} B, pnpm ${pnpm_sym} B, bun ${bun_sym} B, npm 8 ${npm8_sym} B, deno ${deno_sym} B"
echo "total (main + symbolizer):                           npm $((npm_bytes + npm_sym)) B, pnpm $((pnpm_bytes + pnpm_sym)) B, bun $((bun_bytes + bun_sym)) B, npm 8 $((npm8_bytes + npm8_sym)) B, deno $((deno_bytes + deno_sym)) B"
for b in "$npm_sym" "$pnpm_sym" "$bun_sym" "$npm8_sym"; do
  (( b > 0 )) || { echo "a client installed no symbolizer binary" >&2; exit 1; }
done
for b in "$npm_bytes" "$pnpm_bytes" "$bun_bytes" "$npm8_bytes" "$deno_bytes"; do
  (( b <= 3000000 )) || { echo "more than 3 MB of main-addon binaries on disk" >&2; exit 1; }
done
echo "registry-install: ok"
