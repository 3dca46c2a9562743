#!/usr/bin/env bash
# A lavapipe with Vulkan cooperative matrices, beside the system's Mesa, so Dawn offers
# subgroup matrices on a CPU and the matrix conv's hardware form
# (kernels/conv2d_mma_subgroup_matrix.fragment.wgsl) runs without a GPU:
#   bash tools/lavapipe-coopmat.sh [DIR]      then, with the ICD it prints,
#   VK_ICD_FILENAMES=<icd> npm run check:tensor-cores
# bookworm's Mesa (25.0.7 in backports) has no VK_KHR_cooperative_matrix; Debian
# trixie-backports' lavapipe (Mesa 26.1) has it (8x8x8 f16 matrices, subgroups of 8, on
# CPUs with 256-bit vectors). Its package links LLVM 19, which bookworm has, and asks for
# glibc 2.38 only for five C23 entry points (__isoc23_strtol and kin): a shim library
# gives them, their symbol versions are cleared and the GLIBC_2.38 need is marked weak
# (tools/elf-weaken-version.ts). Nothing is installed over the system's packages; the
# downloads are checked against the archive's signed InRelease. Not part of `npm test`:
# it depends on what trixie-backports holds today (it stops if that package no longer
# links LLVM 19).
set -euo pipefail
DIR=${1:-$HOME/.cache/mem3d-webgpu/lavapipe-coopmat}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MIRROR=$(sed -n 's/^URIs: //p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq --no-install-recommends libllvm19 patchelf gcc curl xz-utils gpgv debian-archive-keyring >/dev/null
mkdir -p "$DIR/deb"
cd "$DIR"

# fetch SUITE PACKAGE: the package's .deb from SUITE's signed index, its SHA256 checked; prints its path.
fetch() {
  local suite=$1 pkg=$2
  curl -fsSL "$MIRROR/dists/$suite/InRelease" -o "deb/$suite.InRelease"
  gpgv --keyring "$KEYRING" "deb/$suite.InRelease" 2>/dev/null || { echo "$suite/InRelease: bad or unknown signature" >&2; exit 1; }
  local want; want=$(awk '/^SHA256:/{s=1;next} /^[A-Z]/{s=0} s && $3=="main/binary-amd64/Packages.xz"{print $1}' "deb/$suite.InRelease")
  curl -fsSL "$MIRROR/dists/$suite/main/binary-amd64/Packages.xz" -o "deb/$suite.Packages.xz"
  echo "$want  deb/$suite.Packages.xz" | sha256sum -c --quiet - >&2
  local stanza; stanza=$(xz -dc "deb/$suite.Packages.xz" | awk -v p="$pkg" '/^Package: /{on=($2==p)} on' )
  local file sum; file=$(sed -n 's/^Filename: //p' <<<"$stanza" | head -1); sum=$(sed -n 's/^SHA256: //p' <<<"$stanza" | head -1)
  [ -n "$file" ] || { echo "$suite has no $pkg" >&2; exit 1; }
  if [ "$pkg" = mesa-vulkan-drivers ] && ! grep -q '^Depends:.*libllvm19' <<<"$stanza"; then
    echo "$suite's $pkg ($(sed -n 's/^Version: //p' <<<"$stanza" | head -1)) no longer links LLVM 19: bookworm cannot load it" >&2; exit 1
  fi
  curl -fsSL "$MIRROR/$file" -o "deb/${file##*/}"
  echo "$sum  deb/${file##*/}" | sha256sum -c --quiet - >&2
  echo "deb/${file##*/}"
}
mesa=$(fetch trixie-backports mesa-vulkan-drivers)
info=$(fetch trixie libdisplay-info2)
rm -rf x && mkdir x && dpkg-deb -x "$mesa" x && dpkg-deb -x "$info" x
lib=x/usr/lib/x86_64-linux-gnu
cp "$lib/libvulkan_lvp.so" .
cp -P "$lib"/libdisplay-info.so.* .

cat > isoc23.c <<'C'
/* glibc 2.38's C23 entry points, for a bookworm glibc (2.36): the same functions
   without C23's 0b prefix, which lavapipe does not parse. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
long __isoc23_strtol(const char *s, char **e, int b) { return strtol(s, e, b); }
unsigned long __isoc23_strtoul(const char *s, char **e, int b) { return strtoul(s, e, b); }
long long __isoc23_strtoll(const char *s, char **e, int b) { return strtoll(s, e, b); }
unsigned long long __isoc23_strtoull(const char *s, char **e, int b) { return strtoull(s, e, b); }
int __isoc23_sscanf(const char *s, const char *f, ...) { va_list a; va_start(a, f); int r = vsscanf(s, f, a); va_end(a); return r; }
C
gcc -O2 -shared -fPIC -o libisoc23shim.so isoc23.c
for s in __isoc23_strtol __isoc23_strtoul __isoc23_strtoll __isoc23_strtoull __isoc23_sscanf; do patchelf --clear-symbol-version "$s" libvulkan_lvp.so; done
(cd "$ROOT" && npx --no-install tsx tools/elf-weaken-version.ts "$DIR/libvulkan_lvp.so" GLIBC_2.38)
patchelf --add-needed libisoc23shim.so libvulkan_lvp.so   # one operation a call: patchelf 0.14 mixes up combined ones
patchelf --set-rpath '$ORIGIN' libvulkan_lvp.so
api=$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' x/usr/share/vulkan/icd.d/lvp_icd*.json | head -1)
printf '{\n  "file_format_version": "1.0.1",\n  "ICD": { "library_path": "%s", "api_version": "%s" }\n}\n' "$DIR/libvulkan_lvp.so" "$api" > lvp_icd.json
rm -rf x
echo "lavapipe $(basename "$mesa" .deb | cut -d_ -f2) with cooperative matrices: export VK_ICD_FILENAMES=$DIR/lvp_icd.json"
