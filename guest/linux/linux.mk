# The Linux test guest: an unmodified Debian cloud kernel and a busybox
# initramfs, from Debian packages downloaded at build time (see
# guest/linux/build.sh), and two small ext4 images for its virtio disks.
# Included by the top Makefile; not part of "all", as it needs the package
# archive.

LINUX_GUEST := $(BUILD)/guests/linux

guest-linux: $(LINUX_GUEST)/vmlinuz $(LINUX_GUEST)/initrd.img $(LINUX_GUEST)/disk.ext4 \
	$(LINUX_GUEST)/tools.img $(LINUX_GUEST)/disk-hello.sha256

# Also leaves the kernel's virtio modules in $(LINUX_GUEST)/modules.
$(LINUX_GUEST)/vmlinuz: guest/linux/build.sh | deps
	guest/linux/build.sh kernel $(LINUX_GUEST)

# Rebuilt with the kernel: the modules in it must match vmlinuz.
$(LINUX_GUEST)/initrd.img: guest/linux/build.sh guest/linux/init $(LINUX_GUEST)/vmlinuz | deps
	guest/linux/build.sh initrd $(LINUX_GUEST)

# One run makes all three. The guest may write to disk.ext4: a test that
# needs the pristine image copies it first.
$(LINUX_GUEST)/disk.ext4 $(LINUX_GUEST)/tools.img $(LINUX_GUEST)/disk-hello.sha256 &: guest/linux/build.sh | deps
	guest/linux/build.sh disk $(LINUX_GUEST)

.PHONY: guest-linux
