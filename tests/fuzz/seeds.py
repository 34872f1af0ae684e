#!/usr/bin/python3
"""Writes one seed input of a tests/fuzz harness to stdout, built as the
real producer builds it (GRUB, the firmware, the kernel's setup header):

  seeds.py mb2-info            Multiboot2 boot information, every tag type
                               boot/multiboot2_info.c reads (spec 3.6)
  seeds.py efi-memmap          fuzz_efi_memmap's input: the descriptor size,
                               then an EFI memory map (UEFI 2.10, 7.2.3)
  seeds.py bzimage [KERNEL]    a bzImage: KERNEL's setup header and the start
                               of its protected-mode code, cut down so that
                               it loads into fuzz_bzimage's RAM; without
                               KERNEL, a minimal boot protocol 2.15 header
"""
import struct
import sys

TAG_ALIGN = 8
EFI_DESC_SIZE = 48
EFI_CONVENTIONAL, EFI_RUNTIME_DATA, EFI_ACPI_RECLAIM = 7, 6, 9
EFI_RUNTIME = 1 << 63
SECTOR = 512
PM_BYTES = 0x4000  # protected-mode code kept from a real kernel
# Setup header offsets (Linux Documentation/arch/x86/boot.rst).
SETUP_SECTS, SYSSIZE, JUMP, HEADER, VERSION = 0x1F1, 0x1F4, 0x200, 0x202, 0x206
LOADFLAGS, KERNEL_ALIGNMENT, RELOCATABLE, XLOADFLAGS = 0x211, 0x230, 0x234, 0x236
CMDLINE_SIZE, PREF_ADDRESS, INIT_SIZE = 0x238, 0x258, 0x260
HEADER_END = 0x268
INIT_SIZE_SMALL = 0x400000


def tag(kind, payload):
    t = struct.pack("<II", kind, 8 + len(payload)) + payload
    return t + bytes(-len(t) % TAG_ALIGN)


def efi_desc(kind, start, pages, attribute):
    d = struct.pack("<IIQQQQ", kind, 0, start, 0, pages, attribute)
    return d + bytes(EFI_DESC_SIZE - len(d))


def efi_map():
    return (efi_desc(EFI_CONVENTIONAL, 0, 0x9f, 0xf) +
            efi_desc(EFI_CONVENTIONAL, 0x100000, 0x7f00, 0xf) +
            efi_desc(EFI_ACPI_RECLAIM, 0x8000000, 0x10, 0xf) +
            efi_desc(EFI_RUNTIME_DATA, 0x8010000, 4, 0xf | EFI_RUNTIME))


def mb2_info():
    rsdp = b"RSD PTR " + bytes(28)
    mmap = struct.pack("<II", 24, 0) + b"".join(
        struct.pack("<QQII", base, length, kind, 0)
        for base, length, kind in ((0, 0x9fc00, 1), (0x100000, 0x7f00000, 1),
                                   (0xfec00000, 0x1000, 2)))
    tags = [
        tag(1, b"console=com1\0"),
        tag(2, b"GRUB 2.06\0"),
        tag(3, struct.pack("<II", 0x200000, 0x201000) + b"hello.elf\0"),
        tag(6, mmap),
        tag(8, struct.pack("<QIIIBBH", 0x80000000, 5120, 1280, 800, 32, 1, 0) +
            bytes([16, 8, 8, 8, 0, 8])),
        tag(12, struct.pack("<Q", 0x7f5eb018)),
        tag(14, rsdp[:20]),
        tag(15, rsdp),
        tag(17, struct.pack("<II", EFI_DESC_SIZE, 1) + efi_map()),
        tag(0, b""),
    ]
    body = b"".join(tags)
    return struct.pack("<II", 8 + len(body), 0) + body


def minimal_bzimage():
    k = bytearray(2 * SECTOR + PM_BYTES)
    k[SETUP_SECTS] = 1
    k[JUMP:JUMP + 2] = bytes([0xEB, HEADER_END - HEADER])
    struct.pack_into("<IH", k, HEADER, 0x53726448, 0x020F)
    k[LOADFLAGS] = 1
    struct.pack_into("<I", k, KERNEL_ALIGNMENT, 0x200000)
    k[RELOCATABLE] = 1
    struct.pack_into("<H", k, XLOADFLAGS, 0x3)
    struct.pack_into("<I", k, CMDLINE_SIZE, 2047)
    struct.pack_into("<Q", k, PREF_ADDRESS, 0x1000000)
    struct.pack_into("<I", k, INIT_SIZE, INIT_SIZE_SMALL)
    return k


def cut_bzimage(path):
    with open(path, "rb") as f:
        k = bytearray(f.read())
    setup = ((k[SETUP_SECTS] or 4) + 1) * SECTOR
    k = k[:setup + PM_BYTES]
    struct.pack_into("<I", k, SYSSIZE, PM_BYTES // 16)
    struct.pack_into("<I", k, INIT_SIZE, INIT_SIZE_SMALL)
    return k


def main(argv):
    if argv[:1] == ["mb2-info"]:
        out = mb2_info()
    elif argv[:1] == ["efi-memmap"]:
        out = bytes([EFI_DESC_SIZE]) + efi_map()
    elif argv[:1] == ["bzimage"] and len(argv) <= 2:
        out = cut_bzimage(argv[1]) if len(argv) == 2 else minimal_bzimage()
    else:
        sys.exit(__doc__)
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main(sys.argv[1:])
