# Sourced by scripts/build/arm64.sh and scripts/build/musl.sh: Debian 12's rustc-web unpacked (dpkg -x)
# into a prefix, with a wrapper <prefix>/rustc that finds its libLLVM and librustc_driver there.
# Nothing is installed system-wide: apt runs with a private state (lists, cache). The caller
# defines run and die. RUSTC_WEB_VERSION pins the Debian version (default: apt's candidate).
#
#   rustc_web <prefix> <apt state dir> <extra package>... [-- <extra apt option>...]
#
# Each extra package may name the version as %V, e.g. 'libstd-rust-web-dev:arm64=%V' (the arm64
# std) or 'rust-web-src=%V' (std's sources, for -Zbuild-std).
rustc_web() {
  local prefix="$1" state="$2"
  shift 2
  local extra=() opts=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    extra+=("$1")
    shift
  done
  [ "${1:-}" != -- ] || shift
  opts=("$@")
  if [ -x "$prefix/rustc" ] && [ -f "$prefix/.version" ] &&
    { [ -z "${RUSTC_WEB_VERSION:-}" ] || [ "$(cat "$prefix/.version")" = "$RUSTC_WEB_VERSION" ]; }; then
    echo "present: rustc-web $(cat "$prefix/.version")"
    return
  fi
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
  local apt=(-q -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o Dir::Cache::pkgcache=
    -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root "${opts[@]}")
  run apt-get "${apt[@]}" update
  local v mm llvm p
  v="${RUSTC_WEB_VERSION:-$(apt-cache "${apt[@]}" policy rustc-web | awk '/Candidate:/ {print $2}')}"
  [ -n "$v" ] && [ "$v" != "(none)" ] || die "no rustc-web candidate in apt"
  mm="$(printf '%s' "$v" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')" # 1.96
  llvm="$(apt-cache "${apt[@]}" show "libstd-rust-web-$mm=$v" | sed -n 's/^Depends: //p' | head -n1 |
    tr ',' '\n' | grep -oE 'libllvm[0-9]+' | head -n1 || true)"
  [ -n "$llvm" ] || die "cannot find the libllvm dependency of libstd-rust-web-$mm=$v"
  local pkgs=("rustc-web=$v" "libstd-rust-web-$mm=$v" "libstd-rust-web-dev=$v" "$llvm")
  for p in "${extra[@]}"; do pkgs+=("${p//%V/$v}"); done
  local debs="$prefix.debs"
  rm -rf "$debs" "$prefix.tmp"
  mkdir -p "$debs" "$prefix.tmp"
  (cd "$debs" && run apt-get "${apt[@]}" download "${pkgs[@]}")
  for p in "$debs"/*.deb; do run dpkg -x "$p" "$prefix.tmp"; done
  rm -rf "$prefix.tmp/usr/share/doc" "$prefix.tmp/usr/share/man"
  cat >"$prefix.tmp/rustc" <<WRAPPER
#!/bin/sh
LD_LIBRARY_PATH="$prefix/usr/lib/x86_64-linux-gnu\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$prefix/usr/bin/rustc" "\$@"
WRAPPER
  chmod +x "$prefix.tmp/rustc"
  printf '%s\n' "$v" >"$prefix.tmp/.version" # marks the prefix complete
  rm -rf "$prefix" "$debs"
  mv "$prefix.tmp" "$prefix"
}
