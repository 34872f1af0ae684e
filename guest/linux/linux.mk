# The Linux test guest: an unmodified Debian cloud kernel and a busybox
# initramfs, from Debian packages downloaded at build time (see
# guest/linux/build.sh). Included by the top Makefile; not part of "all",
# as it needs the package archive.

LINUX_GUEST := $(BUILD)/guests/linux

guest-linux: $(LINUX_GUEST)/vmlinuz $(LINUX_GUEST)/initrd.img

$(LINUX_GUEST)/vmlinuz: guest/linux/build.sh | deps
	guest/linux/build.sh kernel $(LINUX_GUEST)

$(LINUX_GUEST)/initrd.img: guest/linux/build.sh guest/linux/init | deps
	guest/linux/build.sh initrd $(LINUX_GUEST)

.PHONY: guest-linux
