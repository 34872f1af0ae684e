#!/bin/sh
# Builds the Linux test guest from Debian packages fetched at build time
# (never committed):
#
#   guest/linux/build.sh kernel OUTDIR   OUTDIR/vmlinuz from the newest
#                                        linux-image-*-cloud-amd64
#   guest/linux/build.sh initrd OUTDIR   OUTDIR/initrd.img: busybox-static and
#                                        guest/linux/init as a gzipped newc cpio
#
# OUTDIR/debs keeps the downloaded .deb files, OUTDIR/versions.txt names the
# packages and versions used. The cloud kernel is LZ4-compressed, which
# decompresses fast in Bochs (the generic one is XZ); see
# shared/notes/linux-guest.md.
set -eu

what=${1:?usage: build.sh kernel|initrd OUTDIR}
out=${2:?usage: build.sh kernel|initrd OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
debs="$out/debs"
mkdir -p "$debs"

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# The real package behind a meta package: its "Depends: PREFIX..." line.
resolve() {
	apt-cache depends "$1" 2>/dev/null | sed -n "s/^ *Depends: \($2[^ ]*\)$/\1/p" | head -n 1
}

# Downloads package $1 into $debs (once) and prints the .deb's path.
fetch() {
	ver=$(apt-cache policy "$1" | sed -n 's/^ *Candidate: //p')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || {
		echo "build.sh: no candidate version of $1 (apt-get update?)" >&2
		exit 1
	}
	deb="$debs/$1_$(echo "$ver" | sed 's/:/%3a/')_amd64.deb"
	if [ ! -f "$deb" ]; then
		(cd "$debs" && apt-get download -q "$1=$ver" >&2)
	fi
	[ -f "$deb" ] || {
		echo "build.sh: apt-get download $1=$ver made no $deb" >&2
		exit 1
	}
	sed -i "/^$1 /d" "$out/versions.txt" 2>/dev/null || true
	echo "$1 $ver" >>"$out/versions.txt"
	echo "$deb"
}

# apt-cache knows nothing before the first "apt-get update" on a fresh
# machine.
if [ -z "$(resolve linux-image-cloud-amd64 linux-image-)" ]; then
	$SUDO apt-get update -qq
fi

case "$what" in
kernel)
	pkg=$(resolve linux-image-cloud-amd64 linux-image-)
	[ -n "$pkg" ] || {
		echo "build.sh: linux-image-cloud-amd64 depends on no linux-image-*" >&2
		exit 1
	}
	deb=$(fetch "$pkg")
	rm -rf "$out/kernel-root"
	dpkg-deb -x "$deb" "$out/kernel-root"
	# Only /boot/vmlinuz-*; the modules are not needed (no module loading).
	cp "$out/kernel-root"/boot/vmlinuz-* "$out/vmlinuz.tmp"
	rm -rf "$out/kernel-root"
	mv "$out/vmlinuz.tmp" "$out/vmlinuz"
	;;
initrd)
	deb=$(fetch busybox-static)
	root="$out/initrd-root"
	rm -rf "$root" "$out/busybox-root"
	dpkg-deb -x "$deb" "$out/busybox-root"
	mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp"
	cp "$out/busybox-root/bin/busybox" "$root/bin/busybox"
	rm -rf "$out/busybox-root"
	cp "$here/init" "$root/init"
	chmod 0755 "$root/init" "$root/bin/busybox"
	# The kernel's built-in initramfs supplies /dev/console, which the
	# archive is unpacked over; /init mounts devtmpfs on /dev.
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -9 -n >"$out/initrd.img.tmp"
	rm -rf "$root"
	mv "$out/initrd.img.tmp" "$out/initrd.img"
	;;
*)
	echo "usage: build.sh kernel|initrd OUTDIR" >&2
	exit 64
	;;
esac
