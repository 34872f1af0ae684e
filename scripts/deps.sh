#!/bin/sh
# Installs the Debian packages pgvisor needs to build, run and test, when
# missing. Called by make; safe to run again (a no-op once all are there).
set -e
PKGS="gcc make binutils bochs bochsbios vgabios bochs-term qemu-system-x86 ovmf \
grub-pc-bin grub-efi-amd64-bin grub-common xorriso mtools gnu-efi libcmocka-dev \
python3 python3-pytest cpio busybox-static e2fsprogs clang-format console-setup-linux \
clang libclang-rt-dev gdb"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
