#!/usr/bin/env bash
# npm run test:emulated [arm64] [x64]
#
# Runs the package inside real Linux kernels under QEMU system emulation (no KVM needed):
#   arm64  Debian 12's arm64 kernel (6.1) on `-M virt -cpu max -icount shift=0`: the kernel's real
#          armv8_pmuv3 driver drives QEMU's emulated PMUv3, and with icount every count is exact and
#          the same on every run. The arm64 build of the addon (scripts/build/arm64.sh) runs the
#          hardware tests __test__/emulated/arm64-*.test.ts there.
#   x64    Debian 12's amd64 kernel (6.1) on `-M q35 -cpu max` (TCG: no PMU): a second real kernel
#          for the x64 build (latest and linux-6.1 variants): __test__/emulated/kernel-6.1.test.ts.
# Each guest boots once from an initramfs (busybox, Node, the package, the transpiled tests) whose
# /init (scripts/emulated/init.sh) runs scripts/emulated/guest.cjs: every test file as root and as an
# unprivileged user at perf_event_paranoid 2. The script ends with one line per guest:
#   emulated: N passed, N failed, N skipped
# and exits 1 when a guest failed, ran no test, or did not finish.
#
# Cached in .emulated/ (gitignored): the kernels (a private apt state: nothing is added to the
# system's dpkg architectures), the guest roots. Installs with apt-get (root or sudo) what is
# missing: qemu-system-arm qemu-system-x86 cpio busybox-static libc6-arm64-cross libstdc++6-arm64-cross.
# Environment: EMULATED_TIMEOUT (seconds per guest, default 1200); EMULATED_ONLY=arm64-rdpmc,icount (run only
# the guest files whose names start so).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.emulated"
GUESTS=("$@")
[ ${#GUESTS[@]} -gt 0 ] || GUESTS=(arm64 x64)
APT_PKGS=(qemu-system-arm qemu-system-x86 cpio busybox-static qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross)
ARM64_SYSROOT=/usr/aarch64-linux-gnu # libc6-arm64-cross + libstdc++6-arm64-cross: arm64 Node's glibc and libstdc++
TIMEOUT="${EMULATED_TIMEOUT:-1200}"
# shellcheck source=scripts/lib/log.sh
. "$ROOT/scripts/lib/log.sh"
# shellcheck source=scripts/lib/apt.sh
. "$ROOT/scripts/lib/apt.sh"
mkdir -p "$CACHE"

# ---------------------------------------------------------------------------
log "host packages: ${APT_PKGS[*]}"
ensure_apt_packages "${APT_PKGS[@]}"

# ---------------------------------------------------------------------------
# debian_download <dest dir> <package:arch>...: .debs of Debian 12 into <dest dir>, with a private apt
# state (lists and cache in .emulated/apt; the system's dpkg architectures are left alone). The
# host's apt sources must be Debian 12's (this machine's and CI's are); elsewhere (e.g. an Ubuntu CI
# runner) the same is done inside a debian:bookworm container when docker is there.
debian_download() {
  local dest="$1" apt="$CACHE/apt"
  shift
  mkdir -p "$dest" "$apt/lists/partial" "$apt/cache/archives/partial"
  local opts=(-q -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
    -o APT::Architectures::=amd64 -o APT::Architectures::=arm64 -o APT::Sandbox::User=root)
  if grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release; then
    [ -n "$(ls "$apt/lists" 2>/dev/null | grep -v partial || true)" ] || apt-get "${opts[@]}" update >&2
    (cd "$dest" && apt-get "${opts[@]}" download "$@" >&2)
  elif command -v docker >/dev/null; then
    docker run --rm -v "$dest:/out" debian:bookworm bash -c 'dpkg --add-architecture arm64 && apt-get update -q >&2 && cd /out && apt-get download "$@" >&2' sh "$@"
  else
    die "this host is not Debian 12 and has no docker: cannot download $* (Debian 12's packages)"
  fi
}

# kernel <dpkg arch>: prints the path of the cached vmlinuz of Debian 12's current linux-image-<arch>.
kernel() {
  local arch="$1" dir="$CACHE/kernels" f
  f="$(ls "$dir"/vmlinuz-*-"$arch" 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -z "$f" ]; then
    # The meta package linux-image-<arch> depends on the current linux-image-6.1.0-N-<arch>.
    debian_download "$dir" "linux-image-$arch:$arch"
    local meta image
    meta="$(ls "$dir"/linux-image-"$arch"_*.deb | head -n1)"
    image="$(dpkg-deb -f "$meta" Depends | grep -oE 'linux-image-[0-9][^ ,(]*' | head -n1)"
    [ -n "$image" ] || die "no linux-image dependency in $meta"
    debian_download "$dir" "$image:$arch"
    dpkg-deb --fsys-tarfile "$dir/${image}_"*.deb | tar -x -C "$dir" --strip-components=2 --wildcards './boot/vmlinuz-*'
    rm -f "$dir"/*.deb
    f="$(ls "$dir"/vmlinuz-*-"$arch" | sort -V | tail -n1)"
  fi
  printf '%s\n' "$f"
}

# stale <file> <paths...>: true when file is missing or older than any of the paths.
stale() {
  local f="$1"
  shift
  [ ! -e "$f" ] || [ -n "$(find "$@" -newer "$f" -print -quit 2>/dev/null)" ]
}
NATIVE_SOURCES=("$ROOT/src" "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" "$ROOT/build.rs")

# ---------------------------------------------------------------------------
log "facade (dist/) and test transpilation"
if stale "$ROOT/dist/index.js" "$ROOT/lib"; then (cd "$ROOT" && npm run --silent build:ts); fi
T="$CACHE/tests"
rm -rf "$T"
mkdir -p "$T"
# The tests import 'perf-event-open' (resolved in the guest to /pkg through /node_modules).
(cd "$ROOT" && node -e "
  const fs = require('fs')
  const files = [...fs.readdirSync('__test__/emulated').filter((f) => f.endsWith('.test.ts')).map((f) => '__test__/emulated/' + f), 'bench/icount/stat.ts']
  require('esbuild').buildSync({ entryPoints: Object.fromEntries(files.map((f) => [f.startsWith('bench/') ? 'icount-stat' : require('path').basename(f, '.ts'), f])), outdir: process.argv[1], outExtension: { '.js': '.cjs' }, bundle: true,
    platform: 'node', format: 'cjs', target: 'node20', external: ['perf-event-open', 'perf-event-open/*'], logLevel: 'warning' })
  console.log('transpiled: ' + files.join(' '))" "$T")
cp "$ROOT/scripts/emulated/guest.cjs" "$T/"

# stage <root> <arch>: the part of the package a user installs, at <root>.
stage_package() {
  local dir="$1"
  mkdir -p "$dir/symbolize"
  cp -r "$ROOT/dist" "$ROOT/package.json" "$ROOT/variants.json" "$dir/"
  cp "$ROOT/symbolize/index.js" "$ROOT/symbolize/package.json" "$dir/symbolize/"
}

# copy_with_libs <root> <elf> <dest>: an ELF and the shared libraries ldd lists, at their own paths.
copy_with_libs() {
  local root="$1" elf="$2" dest="$3" lib
  install -D -m 755 "$elf" "$root$dest"
  for lib in $(ldd "$elf" | grep -oE '/[^ ]+'); do install -D "$lib" "$root$lib"; done
}

# initramfs <root> <out>: an uncompressed newc cpio (the kernel unpacks it faster than gzip under TCG).
initramfs() {
  (cd "$1" && find . | cpio -o -H newc --quiet) >"$2"
}

common_root() {
  local r="$1" arch_busybox="$2"
  rm -rf "$r"
  mkdir -p "$r"/{bin,usr/bin,lib,etc,proc,sys,dev,tmp,root,t,node_modules}
  cp "$arch_busybox" "$r/bin/busybox"
  cp "$ROOT/scripts/emulated/init.sh" "$r/init"
  chmod 755 "$r/init"
  printf 'root:x:0:0:root:/root:/bin/sh\npu:x:1000:1000:unprivileged:/tmp:/bin/sh\n' >"$r/etc/passwd"
  printf 'root:x:0:\npu:x:1000:\n' >"$r/etc/group"
  ln -s /pkg "$r/node_modules/perf-event-open"
  cp "$T"/*.cjs "$r/t/"
}

# boot <guest> <log> <qemu args...>: boots, streams the console, checks the verdict lines.
RESULTS=()
boot() {
  local guest="$1" logf="$2"
  shift 2
  echo "+ timeout $TIMEOUT $*"
  local t0=$SECONDS rc=0
  timeout "$TIMEOUT" "$@" </dev/null 2>&1 | sed -u 's/\r$//' | tee "$logf" | sed -u 's/^/  | /' || rc=$?
  local passed failed skipped runs
  read -r passed failed skipped < <(awk '/^emulated-run: / { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^skipped/) s += $i } }
    END { print p + 0, f + 0, s + 0 }' "$logf")
  runs="$(grep -c '^emulated-run: ' "$logf" || true)"
  local kernel_line exit_line
  kernel_line="$(grep -m1 'emulated-guest: ' "$logf" | sed 's/.*emulated-guest: //' || true)"
  exit_line="$(grep -m1 '^emulated-exit: ' "$logf" | sed 's/^emulated-exit: //' || true)"
  local verdict="ok"
  if [ "$rc" -ne 0 ] || [ "$exit_line" != 0 ] || [ "$runs" -eq 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
    verdict="FAILED (qemu exit $rc, guest exit ${exit_line:-none}, $runs runs)"
    [ "$rc" -ne 124 ] || verdict="FAILED (no verdict within ${TIMEOUT} s)"
  fi
  RESULTS+=("$guest|${kernel_line:-no kernel line}|$((SECONDS - t0))|$passed|$failed|$skipped|$verdict")
  [ "$verdict" = ok ]
}

status=0
for guest in "${GUESTS[@]}"; do
  case "$guest" in
  arm64)
    log "arm64 guest: kernel, arm64 build, root"
    vmlinuz="$(kernel arm64)"
    echo "kernel: $vmlinuz"
    if stale "$ROOT/perf-event-open.linux-arm64-gnu.node" "${NATIVE_SOURCES[@]}" ||
      stale "$ROOT/symbolize/perf-event-open-symbolize.linux-arm64-gnu.node" "$ROOT/symbolize/src" "$ROOT/symbolize/Cargo.toml"; then
      ARM64_SKIP_SMOKE=1 bash "$ROOT/scripts/build/arm64.sh"
    fi
    TC="$ROOT/.arm64-toolchain"
    CC="$(ls "$TC"/napi-cross-*/bin/aarch64-unknown-linux-gnu-gcc | head -n1)"
    ARM64_NODE="$(ls "$TC"/node-*/bin/node | head -n1)"
    r="$CACHE/root-arm64"
    busybox_deb="$CACHE/busybox-arm64/bin/busybox"
    if [ ! -x "$busybox_deb" ]; then
      debian_download "$CACHE/busybox-arm64" busybox-static:arm64
      dpkg-deb --fsys-tarfile "$CACHE"/busybox-arm64/busybox-static_*_arm64.deb | tar -x -C "$CACHE/busybox-arm64" --strip-components=1 ./bin/busybox
      rm -f "$CACHE"/busybox-arm64/*.deb
    fi
    common_root "$r" "$busybox_deb"
    install -m 755 "$ARM64_NODE" "$r/usr/bin/node"
    for l in ld-linux-aarch64.so.1 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libstdc++.so.6 libgcc_s.so.1; do
      cp -L "$ARM64_SYSROOT/lib/$l" "$r/lib/"
    done
    stage_package "$r/pkg"
    cp "$ROOT/perf-event-open.linux-arm64-gnu.node" "$r/pkg/"
    cp "$ROOT/symbolize/perf-event-open-symbolize.linux-arm64-gnu.node" "$r/pkg/symbolize/"
    # The fixture with an exactly known instruction count, and where its functions are.
    "$CC" -O1 -static -nostdlib -ffreestanding -fno-pie -fno-stack-protector -o "$r/t/spin-aarch64" "$ROOT/__test__/fixtures/spin-aarch64.c"
    "${CC%gcc}nm" -S "$r/t/spin-aarch64" | awk '$4 == "spin" || $4 == "syscalls" { printf "%s%s\"%s\": [\"0x%s\", \"0x%s\"]", (n++ ? ", " : "{"), "", $4, $1, $2 } END { print "}" }' >"$r/t/spin-aarch64.json"
    echo "fixture: $(cat "$r/t/spin-aarch64.json")"
    "$CC" -std=gnu99 -O2 -static -o "$r/t/read-loop-aarch64" "$ROOT/bench/icount/read-loop.c"
    initramfs "$r" "$CACHE/initrd-arm64.cpio"
    log "arm64 guest: boot ($(du -m "$CACHE/initrd-arm64.cpio" | cut -f1) MB initramfs)"
    boot arm64 "$CACHE/arm64.log" qemu-system-aarch64 -M virt -cpu max -smp 1 -m 3072 -nographic -no-reboot -nic none \
      -icount shift=0 -kernel "$vmlinuz" -initrd "$CACHE/initrd-arm64.cpio" \
      -append "console=ttyAMA0 rdinit=/init quiet loglevel=4 panic=-1 transparent_hugepage=madvise GUEST=arm64${EMULATED_ONLY:+ ONLY=$EMULATED_ONLY}" || status=1
    ;;
  x64)
    log "x64 guest: kernel, latest and linux-6.1 builds"
    vmlinuz="$(kernel amd64)"
    echo "kernel: $vmlinuz"
    latest="$ROOT/perf-event-open.linux-x64-gnu.node"
    v61="$ROOT/perf-event-open.linux-x64-gnu-linux-6.1.node"
    stale "$latest" "${NATIVE_SOURCES[@]}" && (cd "$ROOT" && npm run --silent build:native)
    stale "$v61" "${NATIVE_SOURCES[@]}" && (cd "$ROOT" && node scripts/build/variants.js linux-6.1)
    [ -e "$ROOT/symbolize/perf-event-open-symbolize.linux-x64-gnu.node" ] || (cd "$ROOT" && npm run --silent build:symbolize)
    r="$CACHE/root-x64"
    common_root "$r" /bin/busybox
    copy_with_libs "$r" "$(readlink -f "$(command -v node)")" /usr/bin/node
    # /pkg: both variants (the loader picks linux-6.1 on 6.1); /pkg-latest: the default install only.
    stage_package "$r/pkg"
    cp "$latest" "$v61" "$r/pkg/"
    cp "$ROOT/symbolize/perf-event-open-symbolize.linux-x64-gnu.node" "$r/pkg/symbolize/"
    stage_package "$r/pkg-latest"
    cp "$latest" "$r/pkg-latest/"
    cp "$ROOT/symbolize/perf-event-open-symbolize.linux-x64-gnu.node" "$r/pkg-latest/symbolize/"
    initramfs "$r" "$CACHE/initrd-x64.cpio"
    log "x64 guest: boot ($(du -m "$CACHE/initrd-x64.cpio" | cut -f1) MB initramfs)"
    boot x64 "$CACHE/x64.log" qemu-system-x86_64 -M q35 -cpu max -smp 1 -m 3072 -nographic -no-reboot -nic none -icount shift=0 \
      -kernel "$vmlinuz" -initrd "$CACHE/initrd-x64.cpio" \
      -append "console=ttyS0 rdinit=/init quiet loglevel=4 panic=-1 transparent_hugepage=madvise GUEST=x64${EMULATED_ONLY:+ ONLY=$EMULATED_ONLY}" || status=1
    ;;
  *) die "unknown guest $guest (arm64, x64)" ;;
  esac
done

log "done in $((SECONDS - START)) s"
for res in "${RESULTS[@]}"; do
  IFS='|' read -r guest kernel secs passed failed skipped verdict <<<"$res"
  echo "emulated $guest guest ($kernel; ${secs} s): $verdict"
  grep '^emulated-run: ' "$CACHE/$guest.log" | sed 's/^emulated-run: /  /'
  grep '^icount-bench: ' "$CACHE/$guest.log" | sed 's/^/  /' || true
  echo "emulated: $passed passed, $failed failed, $skipped skipped"
done
exit $status
