# Sourced by the build and test scripts that need system packages (build-arm64.sh, build-musl.sh,
# emulated/run.sh): installs with apt-get those of the given Debian packages that are not installed,
# as root or through sudo. Sets SUDO (empty for root) for the caller's other privileged steps.
#
#   ensure_apt_packages <package>...
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || {
    printf 'error: not root and no sudo: cannot install system packages or use chroot\n' >&2
    exit 1
  }
  SUDO=(sudo)
fi

ensure_apt_packages() {
  local p missing=()
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "already installed: $(dpkg-query -W -f='${Package}=${Version} ' "$@")"
    return
  fi
  echo "+ apt-get install ${missing[*]}"
  "${SUDO[@]}" apt-get update -q
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}
