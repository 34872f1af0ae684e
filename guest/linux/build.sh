#!/bin/sh
# Builds the Linux test guest from Debian packages fetched at build time
# (never committed):
#
#   guest/linux/build.sh kernel OUTDIR   OUTDIR/vmlinuz from the newest
#                                        linux-image-*-cloud-amd64, and its
#                                        virtio modules in OUTDIR/modules
#   guest/linux/build.sh initrd OUTDIR   OUTDIR/initrd.img: busybox-static,
#                                        guest/linux/init and the virtio
#                                        modules as a gzipped newc cpio
#   guest/linux/build.sh disk OUTDIR     OUTDIR/disk.ext4 (hello.txt; its
#                                        sha256 in OUTDIR/disk-hello.sha256)
#                                        and OUTDIR/tools.img (tools.txt),
#                                        small ext4 images for virtio-blk
#
# OUTDIR/debs keeps the downloaded .deb files, OUTDIR/versions.txt names the
# packages and versions used. The cloud kernel is LZ4-compressed, which
# decompresses fast in Bochs (the generic one is XZ); see
# shared/notes/linux-guest.md.
set -eu

usage="usage: build.sh kernel|initrd|disk OUTDIR"
what=${1:?$usage}
out=${2:?$usage}
here=$(cd "$(dirname "$0")" && pwd)
debs="$out/debs"
mkdir -p "$debs"
# mkfs.ext4 and debugfs live in /sbin, which a user's PATH may lack.
PATH="$PATH:/usr/sbin:/sbin"

# The virtio drivers the guest loads, in load order: each after the modules
# it depends on (the depends= field of each .ko's .modinfo). Only these go
# into the initrd (about 160 KB gzipped; the whole module tree is 23 MB).
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
virtio_blk failover net_failover virtio_net virtio_console"
# The ACPI power button (input events through evdev, which busybox's acpid
# reads), loaded by /init only for pgvisor.test=powerbutton, so that other
# runs' work and exit counts stay as they were.
ACPI_MODULES="evdev button"

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
apt_ready() {
	if [ -z "$(resolve linux-image-cloud-amd64 linux-image-)" ]; then
		$SUDO apt-get update -qq
	fi
}

# mkext4 IMAGE SIZE DIR N FEATURES: an ext4 image of SIZE holding DIR's
# files, the same bytes on every build: a fixed UUID and directory hash seed
# (told apart by the digit N), a fake clock for the superblock and inode
# times, fixed owners, and an explicit feature list rather than the host's
# mke2fs.conf defaults (which also keeps features newer than the 6.1 kernel
# out).
FAKE_TIME=1700000000
EXT4_FEATURES="extent,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize,\
sparse_super,large_file,filetype,dir_index,ext_attr,huge_file"
mkext4() {
	rm -f "$1"
	# On an existing file mke2fs does not say "Creating regular file".
	truncate -s "$2" "$1"
	E2FSPROGS_FAKE_TIME=$FAKE_TIME mkfs.ext4 -F -q -t ext4 -b 1024 -I 256 -N 32 \
		-O "none,$5" -U "5c1b0a1e-0000-4000-8000-00000000000$4" \
		-E "hash_seed=5c1b0a1e-0000-4000-8000-00000000010$4,root_owner=0:0" \
		-d "$3" "$1"
	# mke2fs -d copies each file's owner and ctime (which touch cannot
	# set) from the host: pinned here.
	for f in "$3"/*; do
		f=${f##*/}
		printf 'sif /%s ctime @%s\nsif /%s uid 0\nsif /%s gid 0\n' \
			"$f" "$FAKE_TIME" "$f" "$f"
	done | E2FSPROGS_FAKE_TIME=$FAKE_TIME debugfs -w -f - "$1" >/dev/null 2>"$1.log"
	# Its errors, without the version banner it always prints.
	grep -v '^debugfs [0-9]' "$1.log" >&2 || true
	rm -f "$1.log"
}

case "$what" in
kernel)
	apt_ready
	pkg=$(resolve linux-image-cloud-amd64 linux-image-)
	[ -n "$pkg" ] || {
		echo "build.sh: linux-image-cloud-amd64 depends on no linux-image-*" >&2
		exit 1
	}
	# Only the kernel package now in use is named in versions.txt.
	sed -i '/^linux-image-/d' "$out/versions.txt" 2>/dev/null || true
	deb=$(fetch "$pkg")
	kroot="$out/kernel-root"
	rm -rf "$kroot" "$out/modules.tmp"
	dpkg-deb -x "$deb" "$kroot"
	cp "$kroot"/boot/vmlinuz-* "$out/vmlinuz.tmp"
	# The virtio modules, from the same package as vmlinuz (a module only
	# loads into the kernel it was built with), with their paths under
	# /lib/modules/VERSION and a load-order file for /init. A driver the
	# kernel has built in has no .ko: skipped.
	mdir=$(cd "$kroot" && echo lib/modules/*)
	mkdir -p "$out/modules.tmp/$mdir"
	# copy_modules LIST ORDER-FILE
	copy_modules() {
		for m in $1; do
			ko=$(cd "$kroot" && find "$mdir/kernel" -name "$m.ko" | head -n 1)
			if [ -z "$ko" ]; then
				echo "build.sh: no $m.ko in $pkg (built in?), skipped" >&2
				continue
			fi
			mkdir -p "$out/modules.tmp/$(dirname "$ko")"
			cp "$kroot/$ko" "$out/modules.tmp/$ko"
			echo "/$ko" >>"$out/modules.tmp/lib/modules/$2"
		done
	}
	copy_modules "$MODULES" load-order
	touch "$out/modules.tmp/lib/modules/acpi-order"
	copy_modules "$ACPI_MODULES" acpi-order
	rm -rf "$kroot" "$out/modules"
	mv "$out/modules.tmp" "$out/modules"
	mv "$out/vmlinuz.tmp" "$out/vmlinuz"
	;;
initrd)
	# The modules come from the kernel step, so that they match vmlinuz;
	# run it when they are missing.
	if [ ! -f "$out/modules/lib/modules/load-order" ]; then
		"$here/build.sh" kernel "$out"
	fi
	apt_ready
	deb=$(fetch busybox-static)
	root="$out/initrd-root"
	rm -rf "$root" "$out/busybox-root"
	dpkg-deb -x "$deb" "$out/busybox-root"
	mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" \
		"$root/mnt"
	cp "$out/busybox-root/bin/busybox" "$root/bin/busybox"
	rm -rf "$out/busybox-root"
	cp -R "$out/modules/lib" "$root/lib"
	cp "$here/init" "$root/init"
	chmod 0755 "$root/init" "$root/bin/busybox"
	# The kernel's built-in initramfs supplies /dev/console, which the
	# archive is unpacked over; /init mounts devtmpfs on /dev.
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -9 -n >"$out/initrd.img.tmp"
	rm -rf "$root"
	mv "$out/initrd.img.tmp" "$out/initrd.img"
	echo "build.sh: initrd.img $(wc -c <"$out/initrd.img") bytes"
	;;
disk)
	src="$out/disk-src"
	rm -rf "$src"
	mkdir -p "$src/disk" "$src/tools"
	printf 'hello from the pgvisor disk image\n' >"$src/disk/hello.txt"
	printf 'pgvisor tools disk\n' >"$src/tools/tools.txt"
	# Modes and times as mke2fs -d copies them into the image: fixed,
	# not the umask's or the clock's.
	chmod 0644 "$src"/disk/* "$src"/tools/*
	chmod 0755 "$src/disk" "$src/tools"
	touch -d "@$FAKE_TIME" "$src"/disk/* "$src"/tools/* "$src/disk" "$src/tools"
	# The guest writes to disk.ext4 (a journal keeps that honest: 4 MiB
	# has room for one); tools.img is the read-only disk and too small
	# for a journal.
	mkext4 "$out/disk.ext4.tmp" 4M "$src/disk" 1 "has_journal,$EXT4_FEATURES"
	mkext4 "$out/tools.img.tmp" 1M "$src/tools" 2 "$EXT4_FEATURES"
	sha256sum "$src/disk/hello.txt" | cut -d ' ' -f 1 >"$out/disk-hello.sha256.tmp"
	rm -rf "$src"
	mv "$out/disk-hello.sha256.tmp" "$out/disk-hello.sha256"
	mv "$out/tools.img.tmp" "$out/tools.img"
	mv "$out/disk.ext4.tmp" "$out/disk.ext4"
	;;
*)
	echo "$usage" >&2
	exit 64
	;;
esac
