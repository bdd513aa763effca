#!/usr/bin/env bash
# Checks that a .node built for musl is what an Alpine (or any musl) Node/Bun can load, with
# readelf alone (binutils; it reads every architecture):
#   - ELF machine matches the CPU (x64: X86-64, arm64: AArch64), shared object;
#   - NEEDED names musl's libc only (libc.so, or Alpine's libc.musl-<arch>.so.1);
#   - no symbol versions required (glibc's GLIBC_x.y / libgcc's GCC_x.y never appear);
#   - every undefined dynamic symbol is napi_* (the runtime provides it) or, when a musl libc.so
#     is given, exported by that libc (otherwise the others are listed and must be libc names);
#   - exported: only napi_register_module_v1 (printed).
# Used by scripts/build/musl.sh and by the release workflow's musl build jobs.
#
# Usage: scripts/check/musl-binary.sh <x64|arm64> <file.node> [musl libc.so]
set -euo pipefail
cpu="$1" file="$2" libc="${3:-}"
die() {
  printf 'FAIL %s: %s\n' "$(basename "$file")" "$*" >&2
  exit 1
}
case "$cpu" in x64) want=X86-64 ;; arm64) want=AArch64 ;; *) die "cpu must be x64 or arm64, got $cpu" ;; esac
[ -f "$file" ] || die "no such file"

machine="$(readelf -hW "$file" | sed -n 's/^ *Machine: *//p')"
type="$(readelf -hW "$file" | sed -n 's/^ *Type: *\([A-Z]*\).*/\1/p')"
echo "$(basename "$file"): $(stat -c %s "$file") bytes, ELF $type, machine $machine"
case "$machine" in *"$want") ;; *) die "machine $machine, expected $want" ;; esac
[ "$type" = DYN ] || die "not a shared object ($type)"

needed="$(readelf -dW "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
echo "  NEEDED: ${needed:-(none)}"
for n in $needed; do
  case "$n" in libc.so | libc.musl-*.so.1) ;; *) die "NEEDED $n: only musl's libc may be needed" ;; esac
done
[ -n "$needed" ] || die "NEEDED is empty: expected musl's libc"
interp="$(readelf -lW "$file" | grep -c 'program interpreter' || true)"
[ "$interp" = 0 ] || die "has a program interpreter (an executable, not an addon)"

versions="$(readelf -VW "$file" | grep -oE '(GLIBC|GCC|GLIBCXX)_[0-9.]+' | sort -u | tr '\n' ' ' || true)"
echo "  symbol versions required: ${versions:-(none)}"
[ -z "$versions" ] || die "glibc/libgcc symbol versions: $versions"
! readelf -SW "$file" | grep -q '\.gnu\.version_r' || die "has a .gnu.version_r section (version requirements)"

# readelf --dyn-syms -W: Num: Value Size Type Bind Vis Ndx Name
syms="$(readelf --dyn-syms -W "$file" | awk '$1 ~ /^[0-9]+:$/ && $8 != "" { sub(/@.*/, "", $8); print $7, $5, $8 }')"
# Weak undefined symbols may be absent at run time (the code checks for NULL): listed, not required.
undef="$(printf '%s\n' "$syms" | awk '$1 == "UND" && $2 != "WEAK" { print $3 }' | sort -u)"
weak="$(printf '%s\n' "$syms" | awk '$1 == "UND" && $2 == "WEAK" { print $3 }' | sort -u | tr '\n' ' ')"
n_napi="$(printf '%s\n' "$undef" | grep -c '^napi_' || true)"
others="$(printf '%s\n' "$undef" | grep -v '^napi_' | grep -v '^$' || true)"
n_others="$(printf '%s\n' "$others" | grep -c . || true)"
exported="$(printf '%s\n' "$syms" | awk '$1 != "UND" && ($2 == "GLOBAL" || $2 == "WEAK") { print $3 }' | sort -u | tr '\n' ' ')"
echo "  undefined: $n_napi napi_*, $n_others others, weak: ${weak:-(none)}; exported: ${exported:-(none)}"
[ "$n_napi" -gt 0 ] || die "no napi_* symbol is undefined: not a napi addon?"
[ "$exported" = "napi_register_module_v1 " ] || die "exports $exported (expected napi_register_module_v1 only)"
if [ -n "$others" ]; then
  if [ -n "$libc" ]; then
    provided="$(readelf --dyn-syms -W "$libc" | awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && $8 != "" { sub(/@.*/, "", $8); print $8 }' | sort -u)"
    missing="$(comm -23 <(printf '%s\n' "$others") <(printf '%s\n' "$provided") | tr '\n' ' ')"
    [ -z "$missing" ] || die "undefined and neither napi_* nor in $(basename "$libc"): $missing"
    echo "  the $n_others others are all exported by $libc"
  else
    echo "  the others (must be musl libc names): $(printf '%s\n' "$others" | tr '\n' ' ')"
    glibcish="$(printf '%s\n' "$others" | grep -E '^(__libc_|__cxa_thread_atexit_impl$|gnu_get_libc|__.*_chk$)' | tr '\n' ' ' || true)"
    [ -z "$glibcish" ] || die "glibc-only symbols: $glibcish"
  fi
fi
echo "  ok"
