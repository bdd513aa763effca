# Sourced by build-arm64.sh and build-musl.sh: npm_pack <spec> <dest dir> fetches a registry
# package's tarball (npm pack, nothing installed) and prints the path of the .tgz.
npm_pack() {
  local spec="$1" dest="$2" name
  mkdir -p "$dest"
  name="$(cd "$dest" && npm pack "$spec" --pack-destination "$dest" --silent | tail -n1)"
  printf '%s/%s\n' "$dest" "$name"
}
