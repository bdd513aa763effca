#!/usr/bin/env bash
# Builds the addon and the symbolizer addon (symbolize/) for x86_64-unknown-linux-musl and
# aarch64-unknown-linux-musl on an x86_64 Debian 12 host, checks them, and loads them in an
# Alpine-like root:
#   - build: the release workflow's own command (`napi build --platform --release --no-js
#     --target <T> --cross-compile …`: cargo-zigbuild, zig as the linker, `-crt-static`), plus
#     `-Zbuild-std=std,panic_abort` because the rustup toolchain here has no musl std: std is
#     compiled from Debian's rust-web-src by Debian's rustc-web (same version), both unpacked
#     (dpkg -x) under .musl-toolchain/rust; cargo stays rustup's. zig (`ziglang`) and
#     cargo-zigbuild come from PyPI into .musl-toolchain/venv.
#   - output: target-musl/<crate>/ (CARGO_TARGET_DIR, one per crate), copied to
#     perf-event-open.linux-{x64,arm64}-musl.node and
#     symbolize/perf-event-open-symbolize.linux-{x64,arm64}-musl.node; target/ is never touched.
#   - checks (scripts/check/musl-binary.sh, also run by the release workflow): NEEDED is musl's
#     libc only, no glibc symbol versions, every undefined symbol is napi_* or exported by
#     musl's libc (Debian trixie's musl 1.2.5), only napi_register_module_v1 exported.
#   - smoke test: an Alpine-like root per CPU under .musl-toolchain/root-<cpu> (musl 1.2.5 as
#     /lib/ld-musl-<arch>.so.1, an Alpine-style /usr/bin/ldd, Bun's musl build from npm with the
#     musl libstdc++/libgcc_s of numpy's musllinux wheel, this package without node_modules),
#     entered with `unshare -m` + chroot: scripts/smoke/musl.cjs prints the loader's libc
#     detection and choice, counts task-clock, samples cpu-clock, profiles with the musl
#     symbolizer (flame graph) and runs doctor() on x64; arm64 runs under qemu-aarch64-static
#     (perf_event_open is ENOSYS there: load, choice and the symbolizer only). A local registry
#     stand-in counts requests: the loader must make none.
#
# Usage: scripts/build/musl.sh [cargo-feature]   (default: the feature of variants.json's default variant)
# Environment:
#   MUSL_TARGETS="x64 arm64"  which CPUs to build (default both)
#   MUSL_SKIP_SMOKE=1         build and check only
#   MUSL_SKIP_SYMBOLIZE=1     the main addon only
#   MUSL_SKIP_BUILD=1         check and smoke-test the .node files already in place
#   RUSTC_WEB_VERSION         Debian version of rustc-web (default: apt candidate)
#
# Needs root (or sudo) for apt-get (qemu-user-static, binutils, python3-venv) and for the
# chroot. Everything else is downloaded into .musl-toolchain/ (gitignored) and reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FEATURE="${1:-$(node -p "const f = require('$ROOT/variants.json'); f.variants.find((v) => v.name === f.default).feature")}"
TC="$ROOT/.musl-toolchain"
CPUS=(${MUSL_TARGETS:-x64 arm64})
ZIG_VERSION=0.17.1          # PyPI ziglang
ZIGBUILD_VERSION=0.24.1     # PyPI cargo-zigbuild
MUSL_SUITE=trixie           # musl >= 1.2.4 (DT_RELR) is needed by Bun's musl build; bookworm has 1.2.3
BUN_VERSION=1.4.5           # @oven/bun-linux-{x64,aarch64}-musl
NUMPY_VERSION=2.3.5         # its musllinux wheels carry Alpine-built libstdc++.so.6 / libgcc_s.so.1
APT_PKGS=(qemu-user-static binutils)
export CARGO_TARGET_DIR="$ROOT/target-musl"

# shellcheck source=scripts/lib/log.sh
. "$ROOT/scripts/lib/log.sh"
# shellcheck source=scripts/lib/rustc-web.sh
. "$ROOT/scripts/lib/rustc-web.sh"
triple() { case "$1" in x64) echo x86_64-unknown-linux-musl ;; arm64) echo aarch64-unknown-linux-musl ;; *) die "unknown cpu $1" ;; esac; }
muslarch() { case "$1" in x64) echo x86_64 ;; arm64) echo aarch64 ;; esac; }
debarch() { case "$1" in x64) echo amd64 ;; arm64) echo arm64 ;; esac; }

# shellcheck source=scripts/lib/apt.sh
. "$ROOT/scripts/lib/apt.sh"
[ "$(uname -m)" = x86_64 ] || die "this script cross-builds from an x86_64 host (got $(uname -m))"
mkdir -p "$TC/dl"

# ---------------------------------------------------------------------------
log "1/8 apt packages: ${APT_PKGS[*]} (+ python3-venv when python3 cannot make a venv)"
venv=()
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then venv=(python3-venv); fi
ensure_apt_packages "${APT_PKGS[@]}" "${venv[@]}"

# A private apt state (lists, cache): nothing is installed system-wide. $1 = state dir, rest = extra -o.
apt_opts() {
  local dir="$1"; shift
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  printf '%s\n' -q -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" \
    -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root "$@"
}

# ---------------------------------------------------------------------------
log "2/8 rustc: Debian rustc-web + rust-web-src (std built from source) into $TC/rust"
RUST="$TC/rust"
rustc_web "$RUST" "$TC/apt-bookworm" 'rust-web-src=%V' # scripts/lib/rustc-web.sh
export RUSTC="$RUST/rustc"
run "$RUSTC" -vV
SRC="$("$RUSTC" --print sysroot)/lib/rustlib/src/rust"
[ -f "$SRC/library/Cargo.lock" ] || die "no std sources at $SRC (rust-web-src)"
echo "std sources: $(readlink -f "$SRC")"

# ---------------------------------------------------------------------------
log "3/8 linker: zig (ziglang $ZIG_VERSION) + cargo-zigbuild $ZIGBUILD_VERSION from PyPI into $TC/venv"
VENV="$TC/venv"
if [ -f "$VENV/.complete-$ZIG_VERSION-$ZIGBUILD_VERSION" ]; then
  echo "present: $VENV"
else
  rm -rf "$VENV"
  run python3 -m venv "$VENV"
  run "$VENV/bin/pip" install -q --disable-pip-version-check "ziglang==$ZIG_VERSION" "cargo-zigbuild==$ZIGBUILD_VERSION"
  touch "$VENV/.complete-$ZIG_VERSION-$ZIGBUILD_VERSION"
fi
# cargo-zigbuild runs `python3 -m ziglang` when no zig is on PATH; put a `zig` there anyway.
mkdir -p "$VENV/zigbin"
printf '#!/bin/sh\nexec "%s" -m ziglang "$@"\n' "$VENV/bin/python3" >"$VENV/zigbin/zig"
chmod +x "$VENV/zigbin/zig"
export PATH="$VENV/zigbin:$VENV/bin:$PATH"
echo "zig $(zig version); $(cargo-zigbuild --version)"

# ---------------------------------------------------------------------------
log "4/8 musl $MUSL_SUITE (.deb, dpkg -x) for the checks and the Alpine-like root: $TC/musl-<cpu>"
for cpu in "${CPUS[@]}"; do
  d="$TC/musl-$cpu"
  if [ -f "$d/.version" ]; then
    echo "present: $d (musl $(cat "$d/.version"))"
    continue
  fi
  src="$TC/apt-$MUSL_SUITE/sources.list"
  mkdir -p "$TC/apt-$MUSL_SUITE"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $MUSL_SUITE main" >"$src"
  mapfile -t APT_OPTS < <(apt_opts "$TC/apt-$MUSL_SUITE" -o "Dir::Etc::SourceList=$src" -o Dir::Etc::SourceParts=/nonexistent \
    -o APT::Architectures::=amd64 -o APT::Architectures::=arm64)
  [ -f "$TC/apt-$MUSL_SUITE/.updated" ] || { run apt-get "${APT_OPTS[@]}" update && touch "$TC/apt-$MUSL_SUITE/.updated"; }
  rm -rf "$d.tmp" "$TC/dl/musl-$cpu" && mkdir -p "$d.tmp" "$TC/dl/musl-$cpu"
  (cd "$TC/dl/musl-$cpu" && run apt-get "${APT_OPTS[@]}" download "musl:$(debarch "$cpu")")
  run dpkg -x "$TC/dl/musl-$cpu"/*.deb "$d.tmp"
  dpkg-deb -f "$TC/dl/musl-$cpu"/*.deb Version >"$d.tmp/.version"
  rm -rf "$TC/dl/musl-$cpu"
  mv "$d.tmp" "$d"
  echo "musl $(cat "$d/.version") in $d"
done

# ---------------------------------------------------------------------------
build() { # <cpu> <crate dir> <out file>
  local cpu="$1" crate="$2" out="$3" t
  t="$(triple "$cpu")"
  local o="$TC/out/$cpu-$(basename "$out")"
  # One target dir per crate: their release profiles differ and -Zbuild-std builds std with each;
  # in a shared dir each crate's build invalidated the other's std, so every run rebuilt both.
  local tdir="$CARGO_TARGET_DIR/main"
  [ "$crate" = "$ROOT" ] || tdir="$CARGO_TARGET_DIR/$(basename "$crate")"
  rm -rf "$o" && mkdir -p "$o"
  local features=()
  [ "$crate" = "$ROOT" ] && features=(--no-default-features --features "$FEATURE")
  # The release workflow's build step (.github/workflows/release.yml) with -Zbuild-std added:
  (cd "$ROOT" && CARGO_TARGET_DIR="$tdir" RUSTC_BOOTSTRAP=1 run npx napi build --cwd "$crate" --platform --release --no-js \
    --target "$t" --cross-compile "${features[@]}" --output-dir "$o" --dts "$o/index.d.ts" \
    -- --locked -Zbuild-std=std,panic_abort)
  run cp "$o"/*.node "$out"
  ls -l "$out"
}
for cpu in "${CPUS[@]}"; do
  if [ "${MUSL_SKIP_BUILD:-0}" = 1 ]; then
    log "5/8 build: skipped (MUSL_SKIP_BUILD=1): checking and loading the .node files in place"
    break
  fi
  log "5/8 napi build --cross-compile --target $(triple "$cpu") --no-default-features --features $FEATURE"
  build "$cpu" "$ROOT" "$ROOT/perf-event-open.linux-$cpu-musl.node"
  if [ "${MUSL_SKIP_SYMBOLIZE:-0}" != 1 ]; then
    log "5/8 symbolizer: napi build --cwd symbolize --cross-compile --target $(triple "$cpu")"
    build "$cpu" "$ROOT/symbolize" "$ROOT/symbolize/perf-event-open-symbolize.linux-$cpu-musl.node"
  fi
done

# ---------------------------------------------------------------------------
for cpu in "${CPUS[@]}"; do
  libc="$(ls "$TC/musl-$cpu"/usr/lib/*-linux-musl/libc.so)"
  log "6/8 symbol checks ($cpu): scripts/check/musl-binary.sh against musl $(cat "$TC/musl-$cpu/.version") ($libc)"
  run bash "$ROOT/scripts/check/musl-binary.sh" "$cpu" "$ROOT/perf-event-open.linux-$cpu-musl.node" "$libc"
  [ "${MUSL_SKIP_SYMBOLIZE:-0}" = 1 ] ||
    run bash "$ROOT/scripts/check/musl-binary.sh" "$cpu" "$ROOT/symbolize/perf-event-open-symbolize.linux-$cpu-musl.node" "$libc"
done

if [ "${MUSL_SKIP_SMOKE:-0}" = 1 ]; then
  log "7/8 Alpine-like root: skipped (MUSL_SKIP_SMOKE=1)"
  log "done in $((SECONDS - START))s (smoke test skipped)"
  exit 0
fi

# ---------------------------------------------------------------------------
# shellcheck source=scripts/lib/npm-pack.sh
. "$ROOT/scripts/lib/npm-pack.sh"
log "7/8 musl runtime: Bun $BUN_VERSION (musl build, npm) + libstdc++/libgcc_s from numpy $NUMPY_VERSION musllinux wheels (PyPI)"
for cpu in "${CPUS[@]}"; do
  a="$(muslarch "$cpu")"
  d="$TC/bun-$cpu-$BUN_VERSION"
  if [ -x "$d/bun" ]; then
    echo "present: $d/bun"
  else
    bunarch=$([ "$cpu" = x64 ] && echo x64 || echo aarch64)
    echo "+ npm pack @oven/bun-linux-$bunarch-musl@$BUN_VERSION"
    tgz="$(npm_pack "@oven/bun-linux-$bunarch-musl@$BUN_VERSION" "$TC/dl")"
    rm -rf "$d.tmp" && mkdir -p "$d.tmp"
    run tar -xzf "$tgz" -C "$d.tmp" --strip-components=2 package/bin/bun
    rm -f "$tgz"
    mv "$d.tmp" "$d"
  fi
  d="$TC/cxx-$cpu-$NUMPY_VERSION"
  if [ -f "$d/.complete" ]; then
    echo "present: $d ($(ls "$d" | tr '\n' ' '))"
  else
    rm -rf "$d.tmp" "$TC/dl/wheel-$cpu" && mkdir -p "$d.tmp"
    run "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: \
      --platform "musllinux_1_2_$a" --python-version 3.12 --implementation cp --abi cp312 \
      "numpy==$NUMPY_VERSION" -d "$TC/dl/wheel-$cpu"
    # numpy.libs/libstdc++-<hash>.so.6.*, libgcc_s-<hash>.so.1 (auditwheel renames them).
    "$VENV/bin/python3" - "$TC/dl/wheel-$cpu"/*.whl "$d.tmp" <<'EOF'
import re, sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for n in z.namelist():
        m = re.match(r'numpy\.libs/(libstdc\+\+|libgcc_s)-[0-9a-f]+\.so\.[0-9.]+$', n)
        if m:
            data = z.read(n)
            base = n.split('/')[-1]
            open(f'{out}/{base}', 'wb').write(data)
            print('  ' + base, len(data), 'bytes')
EOF
    rm -rf "$TC/dl/wheel-$cpu"
    touch "$d.tmp/.complete"
    mv "$d.tmp" "$d"
  fi
done

# ---------------------------------------------------------------------------
# The Alpine-like root: what `node:alpine` has that the loader looks at, and a musl runtime.
make_root() { # <cpu>: prints the root
  local cpu="$1" a r
  a="$(muslarch "$cpu")"
  r="$TC/root-$cpu"
  rm -rf "$r"
  mkdir -p "$r"/{lib,usr/bin,usr/lib,proc,sys,tmp,dev,etc,app/perf-event-open/symbolize}
  chmod 1777 "$r/tmp"
  # musl: the loader is libc (Alpine: /lib/ld-musl-<arch>.so.1, libc.musl-<arch>.so.1 a link to it).
  cp "$TC/musl-$cpu/usr/lib/$a-linux-musl/libc.so" "$r/lib/ld-musl-$a.so.1"
  ln -s "ld-musl-$a.so.1" "$r/lib/libc.musl-$a.so.1"
  # Alpine's /usr/bin/ldd is this two-line script (musl-utils).
  printf '#!/bin/sh\nexec /lib/ld-musl-%s.so.1 --list "$@"\n' "$a" >"$r/usr/bin/ldd"
  chmod +x "$r/usr/bin/ldd"
  # C++ runtime for Bun, under the names Bun and each other ask for (NEEDED).
  local cxx="$TC/cxx-$cpu-$NUMPY_VERSION" f
  for f in "$cxx"/lib*; do
    cp "$f" "$r/usr/lib/"
    case "$(basename "$f")" in
    libstdc++*) cp "$f" "$r/usr/lib/libstdc++.so.6" ;;
    libgcc_s*) cp "$f" "$r/usr/lib/libgcc_s.so.1" ;;
    esac
  done
  cp "$TC/bun-$cpu-$BUN_VERSION/bun" "$r/usr/bin/bun"
  echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
  echo "nameserver 127.0.0.1" >"$r/etc/resolv.conf"
  # The package as `npm pack` would ship it, plus this host's glibc build (which must not be
  # chosen) and the symbolizer package; no node_modules anywhere.
  local p="$r/app/perf-event-open"
  cp -r "$ROOT/package.json" "$ROOT/variants.json" "$ROOT/dist" "$p/"
  cp "$ROOT"/perf-event-open.linux-*.node "$p/"
  cp "$ROOT/symbolize/package.json" "$ROOT/symbolize/index.js" "$p/symbolize/"
  cp "$ROOT"/symbolize/perf-event-open-symbolize.linux-*.node "$p/symbolize/"
  cp "$ROOT/scripts/smoke/musl.cjs" "$p/"
  printf '%s\n' "$r"
}

# A registry stand-in on 127.0.0.1 that counts requests: BUN_CONFIG_REGISTRY and
# NPM_CONFIG_REGISTRY point at it, so an auto-install attempt shows as a request, not a hang.
REG_LOG="$TC/registry-requests.log"
: >"$REG_LOG"
rm -f "$REG_LOG.port"
node -e "
  const fs = require('node:fs')
  require('node:http').createServer((req, res) => {
    fs.appendFileSync(process.argv[1], req.method + ' ' + req.url + '\n')
    res.writeHead(404).end()
  }).listen(0, '127.0.0.1', function () { fs.writeFileSync(process.argv[1] + '.port', String(this.address().port)) })
" "$REG_LOG" &
REG_PID=$!
trap 'kill "$REG_PID" 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$REG_LOG.port" ] && break; sleep 0.1; done
REG="http://127.0.0.1:$(cat "$REG_LOG.port")/"

in_root() { # <seconds> <root> <cmd…>: chroot with its own /proc, the host's /dev and /sys (as a container has), no inherited environment, time limit
  local t="$1" r="$2"; shift 2
  "${SUDO[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp TMPDIR=/tmp BUN_CONFIG_REGISTRY="$REG" NPM_CONFIG_REGISTRY="$REG" \
    BUN_INSTALL_CACHE_DIR=/tmp/bun-cache NO_COLOR=1 \
    timeout "$t" unshare -m sh -c 'mount -t proc proc "$1/proc" && mount --bind /dev "$1/dev" && mount --rbind /sys "$1/sys" && r="$1" && shift && exec chroot "$r" "$@"' \
    sh "$r" "$@"
}

log "8/8 Alpine-like root: Bun $BUN_VERSION (musl) runs scripts/smoke/musl.cjs (registry stand-in $REG)"
for cpu in "${CPUS[@]}"; do
  r="$(make_root "$cpu" | tail -n1)"
  a="$(muslarch "$cpu")"
  qemu=()
  if [ "$cpu" = arm64 ]; then
    cp "$(command -v qemu-aarch64-static)" "$r/usr/bin/"
    qemu=(/usr/bin/qemu-aarch64-static)
  fi
  echo "root $r: $(cd "$r" && find lib usr -type f -o -type l | sort | tr '\n' ' ')"
  echo "+ chroot $r ${qemu[*]:+${qemu[*]} }/usr/bin/bun --version"
  v="$(in_root 120 "$r" "${qemu[@]}" /usr/bin/bun --version)" || die "Bun does not start in $r: $v"
  echo "bun $v (musl, $a)"
  # A symbol for the symbolizer to name by file offset: Bun's exported napi_create_object, its
  # address (readelf --dyn-syms) mapped through the LOAD segment that holds it (readelf -lW).
  vaddr="$(readelf --dyn-syms -W "$r/usr/bin/bun" | awk '{ sub(/@.*/, "", $8) } $8 == "napi_create_object" && $7 != "UND" && !f { print $2; f = 1 }')"
  [ -n "$vaddr" ] || die "no exported napi_create_object in Bun"
  offset="$(readelf -lW "$r/usr/bin/bun" | node -e "
    const a = BigInt('0x$vaddr')
    for (const l of require('fs').readFileSync(0, 'utf8').split('\\n')) {
      const [type, off, va, , , memsz] = l.trim().split(/\\s+/)
      if (type === 'LOAD' && a >= BigInt(va) && a < BigInt(va) + BigInt(memsz)) { console.log(String(a - BigInt(va) + BigInt(off))); break }
    }")"
  [ -n "$offset" ] || die "no LOAD segment of Bun holds 0x$vaddr"
  # Control: with --install=force Bun fetches a package it cannot find from the registry, so the
  # stand-in sees it. The smoke test runs with --install=force too: a loader that asked Bun's
  # resolver for an uninstalled variant package would show up there (the loader before this
  # script existed made 6 such requests, one per missing kernel variant).
  in_root 120 "$r" "${qemu[@]}" /usr/bin/bun --install=force -e "try { require.resolve('perf-event-open-registry-probe') } catch {}" || true
  n="$(wc -l <"$REG_LOG")"
  echo "control: Bun --install=force resolving a missing package made $n registry request(s): $(tr '\n' ' ' <"$REG_LOG")"
  [ "$n" -gt 0 ] || die "the registry stand-in saw no request from the control: it could not catch an auto-install"
  : >"$REG_LOG"
  echo "+ chroot $r ${qemu[*]:+${qemu[*]} }/usr/bin/bun --install=force /app/perf-event-open/musl.cjs $cpu /usr/bin/bun $offset napi_create_object"
  in_root 600 "$r" "${qemu[@]}" /usr/bin/bun --install=force /app/perf-event-open/musl.cjs "$cpu" /usr/bin/bun "$offset" napi_create_object ||
    die "musl smoke test failed on $cpu (exit $?)"
  # The loader's libc detection without /usr/bin/ldd, and with an ldd that says glibc: still musl,
  # and the symbolizer still loads (its generated index.js alone would pick glibc from ldd).
  for ldd in absent glibc; do
    if [ "$ldd" = absent ]; then rm -f "$r/usr/bin/ldd"; else printf '#!/bin/sh\n# GNU C Library ldd\n' >"$r/usr/bin/ldd"; fi
    out="$(in_root 300 "$r" "${qemu[@]}" /usr/bin/bun --install=force -e "const l = require('/app/perf-event-open/dist/loading/loader.js'); const d = l.detectLibc(); const s = require('/app/perf-event-open/dist/profile/symbolizer.js').symbolizer(); console.log(d.libc + ' (from ' + d.source + '), target ' + l.currentTarget().triple + '; symbolizer loads: ' + s.symbolizerInfo())")" ||
      die "detection with /usr/bin/ldd $ldd failed: $out"
    echo "ldd $ldd: loader detects $out"
    case "$out" in musl*"$(triple "$cpu")"*) ;; *) die "with /usr/bin/ldd $ldd the loader did not choose musl: $out" ;; esac
  done
  n="$(wc -l <"$REG_LOG")"
  echo "registry stand-in during the $cpu smoke test (Bun --install=force): $n requests $(tr '\n' ' ' <"$REG_LOG")"
  [ "$n" -eq 0 ] || die "the loader or the symbolizer asked Bun's resolver for a missing package ($n registry requests)"
done

log "done in $((SECONDS - START))s: $(for cpu in "${CPUS[@]}"; do printf '%s ' "perf-event-open.linux-$cpu-musl.node ($(stat -c %s "$ROOT/perf-event-open.linux-$cpu-musl.node") B)"; [ "${MUSL_SKIP_SYMBOLIZE:-0}" = 1 ] || printf '%s ' "perf-event-open-symbolize.linux-$cpu-musl.node ($(stat -c %s "$ROOT/symbolize/perf-event-open-symbolize.linux-$cpu-musl.node") B)"; done)"
