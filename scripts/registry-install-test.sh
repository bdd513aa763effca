#!/usr/bin/env bash
# Installs perf-event-open as a user would, from a registry: packs the release's tarballs (the root
# package with the optionalDependencies `npm-packages.js --pre-publish` writes, and one package per
# target x kernel variant), serves them on 127.0.0.1 (scripts/local-registry.js; nothing else is
# reachable through it), then in empty projects runs `npm install perf-event-open`, pnpm, bun,
# npm 8 (which ignores `libc`) and Deno (`npm:perf-event-open` with the README's permissions),
# checks which variant loads, runs the demo, and reports the bytes of binaries on disk. Last, a user on an older kernel's path: installing a variant package by name
# makes the loader prefer it.
# Binaries: the ones built here (npm run build; npm run build:variants for others) are real; every
# other package gets a copy of this machine's default binary as a same-size stand-in (never loaded
# here: npm, pnpm and bun skip other targets by cpu/libc). Needs a build (npm run build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server=
cleanup() { [[ -n $server ]] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false npm_config_yes=true NO_COLOR=1
PNPM=10.34.8 BUN=1.4.5 NPM8=8.19.4 DENO=2.9.6
host=linux-x64-gnu
default=$(node -p "require('$root/variants.json').default")
hostbin="$root/$(node "$root/scripts/variants.js" binary-name $host "$default")"
[[ -f $hostbin && -f $root/dist/index.js ]] || { echo "build first: npm run build" >&2; exit 1; }
ver=$(node -p "require('$root/package.json').version")

echo "== stage the release (root package as published, npm/ with binaries)"
stage="$work/stage"
mkdir -p "$stage/scripts" "$stage/lib" "$work/tarballs"
cp -r "$root/dist" "$root/npm" "$stage/"
cp "$root"/{package.json,index.d.ts,variants.json,README.md,LICENSE} "$stage/"
cp "$root/scripts/variants.js" "$root/scripts/npm-packages.js" "$stage/scripts/"
cp "$root/lib/naming.js" "$stage/lib/"
stand_ins=0
while read -r platform variant; do
  bin=$(node "$root/scripts/variants.js" binary-name "$platform" "$variant")
  dir="$stage/$(node "$root/scripts/variants.js" package-dir "$platform" "$variant")"
  if [[ $platform == "$host" && -f "$root/$bin" ]]; then cp "$root/$bin" "$dir/"; echo "   real binary: $bin"
  else cp "$hostbin" "$dir/$bin"; stand_ins=$((stand_ins + 1)); fi
done < <(node -e "const v=require('$root/scripts/variants.js'); for (const t of v.targets) for (const x of v.variants) console.log(t.platform, x.name)")
echo "   $stand_ins packages get a stand-in copy of $(basename "$hostbin")"

echo "== the publish step refuses a platform package without its binary"
mv "$stage/npm/$host/$(basename "$hostbin")" "$work/held.node"
if (cd "$stage" && node scripts/npm-packages.js --pre-publish >/dev/null 2>&1); then echo "pre-publish accepted a package without its .node" >&2; exit 1; fi
if (cd "$stage/npm/$host" && npm pack --silent --pack-destination "$work" >/dev/null 2>&1); then echo "npm pack accepted a platform package without its .node" >&2; exit 1; fi
mv "$work/held.node" "$stage/npm/$host/$(basename "$hostbin")"
echo "   refused (pre-publish and the package's prepack)"
(cd "$stage" && node scripts/npm-packages.js --pre-publish | sed 's/^/   /')
for d in "$stage"/npm/*/; do (cd "$d" && npm pack --silent --pack-destination "$work/tarballs" >/dev/null); done
(cd "$stage" && npm pack --silent --pack-destination "$work/tarballs" >/dev/null)
root_tgz="$work/tarballs/perf-event-open-$ver.tgz"
echo "   $(ls "$work/tarballs" | wc -l) tarballs; root $(stat -c %s "$root_tgz") bytes: $(tar -tzf "$root_tgz" | grep -c .) files, none a .node: $(tar -tzf "$root_tgz" | grep -c '\.node$' || true)"
tar -xzOf "$root_tgz" package/package.json | node -e "const p=JSON.parse(require('fs').readFileSync(0)); console.log('   optionalDependencies:', Object.keys(p.optionalDependencies).join(', '), '| os:', p.os ?? 'none')"

echo "== serve them on 127.0.0.1"
node "$root/scripts/local-registry.js" "$work/tarballs" "$work/port" > "$work/registry.log" 2>&1 &
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
  echo "$app"
}
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
  local n bytes
  n=$(find "$app/node_modules" -name '*.node' -type f -printf '%i\n' | sort -u | wc -l)
  bytes=$(find "$app/node_modules" -name '*.node' -type f -printf '%i %s\n' | sort -u | awk '{s += $2} END {print s + 0}')
  echo "   on disk: $n binaries, $bytes bytes ($(find "$app/node_modules" -name '*.node' -type f -printf '%f\n' | sort -u | tr '\n' ' '))"
  RESULT_BYTES=$bytes
}

echo "== npm $(npm --version): npm install perf-event-open"
app=$(project npm)
(cd "$app" && npm install --silent perf-event-open)
check "$app" "$default" node
npm_bytes=$RESULT_BYTES

echo "== pnpm $PNPM: pnpm add perf-event-open"
app=$(project pnpm)
(cd "$app" && "$pnpm" add --silent --store-dir "$work/store-pnpm" perf-event-open >/dev/null)
check "$app" "$default" node
pnpm_bytes=$RESULT_BYTES

echo "== bun $BUN: bun add perf-event-open (and run with bun)"
app=$(project bun)
(cd "$app" && BUN_CONFIG_REGISTRY=$reg BUN_INSTALL_CACHE_DIR="$work/cache-bun" "$bun" add perf-event-open >/dev/null)
check "$app" "$default" "$bun"
bun_bytes=$RESULT_BYTES

echo "== npm $NPM8 (ignores libc): npm install perf-event-open"
app=$(project npm8)
(cd "$app" && "$npm8" install --silent perf-event-open)
check "$app" "$default" node
npm8_bytes=$RESULT_BYTES

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
deno_bytes=$(find "$app/node_modules" -name '*.node' -type f -printf '%i %s\n' | sort -u | awk '{s += $2} END {print s + 0}')
echo "   on disk: $(find "$app/node_modules" -name '*.node' -type f -printf '%i\n' | sort -u | wc -l) binaries, $deno_bytes bytes (Deno ignores libc)"

echo "== npm install --os=darwin --cpu=arm64 perf-event-open (as a dependency of a cross-platform project)"
app=$(project darwin)
(cd "$app" && npm install --silent --os=darwin --cpu=arm64 perf-event-open)
n=$(find "$app/node_modules" -name '*.node' | wc -l)
[[ -f $app/node_modules/perf-event-open/package.json && $n == 0 ]] || { echo "expected the package without binaries, got $n" >&2; exit 1; }
echo "   installed, no binary (the loader's 'works only on Linux' error covers it at run time)"

fit=$(node -e "const { candidateOrder } = require('$root/dist/variants.js'); console.log(candidateOrder(require('os').release())[0].name)")
fitbin=$(node "$root/scripts/variants.js" binary-name $host "$fit")
if [[ $fit != "$default" && -f "$root/$fitbin" ]]; then
  echo "== an explicit variant for this kernel: npm install perf-event-open perf-event-open-$host-$fit"
  app=$(project fit)
  (cd "$app" && npm install --silent perf-event-open "perf-event-open-$host-$fit")
  check "$app" "$fit" node
else
  echo "== (skipped the explicit-variant install: build $fit first with npm run build:variants $fit)"
fi

echo "binaries on disk after a default install: npm ${npm_bytes} B, pnpm ${pnpm_bytes} B, bun ${bun_bytes} B, npm 8 ${npm8_bytes} B, deno ${deno_bytes} B (limit 3000000)"
for b in "$npm_bytes" "$pnpm_bytes" "$bun_bytes" "$npm8_bytes" "$deno_bytes"; do
  (( b <= 3000000 )) || { echo "more than 3 MB of binaries on disk" >&2; exit 1; }
done
echo "registry-install: ok"
