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
  seeds.py virtio-blk          fuzz_pci.h steps of a driver bringing the disk
                               up (virtio 1.2, 3.1.1) and reading sector 0
  seeds.py virtio-console      the same for the console, printing a line
  seeds.py madt                an ACPI MADT (ACPI 6.4, 5.2.12) as firmware
                               writes it: two local APICs, an I/O APIC, an
                               interrupt override, a local x2APIC
  seeds.py gpt DISK            fuzz_gpt's input: flags (seal), DISK's size in
                               sectors and its protective MBR, GPT header and
                               entry array
  seeds.py virtio-net          the same for the NIC: a receive buffer, a
                               broadcast sent, a frame from fuzz_virtio_net's
                               peer, time passing
  seeds.py migration-stream    fuzz_stream_push's input: two chunk sizes, then
                               a migration-shaped state stream
                               (docs/STATE_STREAM.md): config, two page
                               batches sending one frame twice, an unknown
                               optional record, END
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


# fuzz_pci.h: steps, and where the host bridge puts the device's BARs.
PCI_CFG_WRITE, PCI_MMIO_WRITE, PCI_OUT, PCI_RAM = 1, 3, 5, 6
PCI_SLOT = 1
IO_WINDOW_PICK = 1  # fuzz_port: the first range (the I/O window), not any port
SIZE_CODE = {1: 0, 2: 1, 4: 2, 8: 3}
PCI_COMMAND, COMMAND_IO_MEM_MASTER = 0x04, 0x7
# virtio_pci common configuration (virtio 1.2, 4.1.4.3) at BAR0 + 0.
CC_DRIVER_FEATURE_SELECT, CC_DRIVER_FEATURE, CC_STATUS = 0x08, 0x0C, 0x14
CC_QUEUE_SELECT, CC_QUEUE_SIZE, CC_QUEUE_ENABLE = 0x16, 0x18, 0x1C
CC_QUEUE_DESC, CC_QUEUE_DRIVER, CC_QUEUE_DEVICE = 0x20, 0x28, 0x30
ACK, DRIVER, DRIVER_OK, FEATURES_OK = 1, 2, 4, 8
VERSION_1_WORD1 = 1  # feature bit 32
QSIZE = 8
DESC_F_NEXT, DESC_F_WRITE = 1, 2


def cfg_write(off, size, value):
    return struct.pack("<BBBBI", PCI_CFG_WRITE, PCI_SLOT, off, SIZE_CODE[size], value)


def mmio_write(off, size, value):
    return struct.pack("<BIBQ", PCI_MMIO_WRITE, off, SIZE_CODE[size], value)


def ram_write(gpa, data):
    assert len(data) < 256
    return struct.pack("<BHB", PCI_RAM, gpa, len(data)) + data


def notify(queue):
    return struct.pack("<BBBBI", PCI_OUT, IO_WINDOW_PICK, 0, SIZE_CODE[2], queue)


def virtio_up(queues):
    """Steps of virtio 1.2, 3.1.1 with queues = [(index, desc, avail, used)]."""
    out = cfg_write(PCI_COMMAND, 2, COMMAND_IO_MEM_MASTER)
    out += mmio_write(CC_STATUS, 1, 0) + mmio_write(CC_STATUS, 1, ACK | DRIVER)
    out += mmio_write(CC_DRIVER_FEATURE_SELECT, 4, 1)
    out += mmio_write(CC_DRIVER_FEATURE, 4, VERSION_1_WORD1)
    out += mmio_write(CC_STATUS, 1, ACK | DRIVER | FEATURES_OK)
    for index, desc, avail, used in queues:
        out += mmio_write(CC_QUEUE_SELECT, 2, index) + mmio_write(CC_QUEUE_SIZE, 2, QSIZE)
        out += mmio_write(CC_QUEUE_DESC, 8, desc) + mmio_write(CC_QUEUE_DRIVER, 8, avail)
        out += mmio_write(CC_QUEUE_DEVICE, 8, used) + mmio_write(CC_QUEUE_ENABLE, 2, 1)
    return out + mmio_write(CC_STATUS, 1, ACK | DRIVER | FEATURES_OK | DRIVER_OK)


def descs(chain):
    """A descriptor table: chain = [(addr, len, writable)], linked in order."""
    out = b""
    for i, (addr, length, writable) in enumerate(chain):
        flags = (DESC_F_NEXT if i + 1 < len(chain) else 0) | (DESC_F_WRITE if writable else 0)
        out += struct.pack("<QIHH", addr, length, flags, i + 1 if i + 1 < len(chain) else 0)
    return out


def offer(avail, head):
    return ram_write(avail, struct.pack("<HHH", 0, 1, head))


BLK_SAVE_LOAD = 7  # fuzz_virtio_blk's own step: the device through its record


def virtio_blk():
    out = virtio_up([(0, 0x1000, 0x2000, 0x3000)])
    out += ram_write(0x1000, descs([(0x4000, 16, False), (0x5000, 512, True), (0x6000, 1, True)]))
    out += ram_write(0x4000, struct.pack("<IIQ", 0, 0, 0))  # VIRTIO_BLK_T_IN, sector 0
    out += offer(0x2000, 0) + notify(0)
    # Saved and restored, then the same chain offered again as entry 1.
    again = ram_write(0x2000, struct.pack("<HHHH", 0, 2, 0, 0))
    return out + bytes([BLK_SAVE_LOAD]) + again + notify(0)


def virtio_console():
    out = virtio_up([(0, 0x1000, 0x2000, 0x3000), (1, 0x4000, 0x5000, 0x6000)])
    out += ram_write(0x1000, descs([(0x8000, 64, True)])) + offer(0x2000, 0) + notify(0)
    line = b"hello from the guest\n"
    out += ram_write(0x4000, descs([(0x9000, len(line), False)])) + ram_write(0x9000, line)
    return out + offer(0x5000, 0) + notify(1)


NET_PEER_SENDS, NET_TIME, NET_SAVE_LOAD = 7, 8, 9  # fuzz_virtio_net's own steps
NET_HDR_LEN = 12  # struct virtio_net_hdr with num_buffers (virtio 1.2, 5.1.6)
NIC_MAC, PEER_MAC = bytes([2, 0, 0, 0, 0, 1]), bytes([2, 0, 0, 0, 0, 2])
ETHERTYPE_IPV4 = b"\x08\x00"
NET_RX_BUF = 1526


def ethernet(dst, src):
    return dst + src + ETHERTYPE_IPV4 + bytes(range(46))


def virtio_net():
    out = virtio_up([(0, 0x1000, 0x2000, 0x3000), (1, 0x4000, 0x5000, 0x6000)])
    out += ram_write(0x1000, descs([(0x8000, NET_RX_BUF, True)])) + offer(0x2000, 0) + notify(0)
    frame = bytes(NET_HDR_LEN) + ethernet(b"\xff" * 6, NIC_MAC)
    out += ram_write(0x4000, descs([(0x9000, len(frame), False)])) + ram_write(0x9000, frame)
    out += offer(0x5000, 0) + notify(1)
    peer = ethernet(NIC_MAC, PEER_MAC)
    out += struct.pack("<BH", NET_PEER_SENDS, len(peer)) + peer
    out += struct.pack("<BI", NET_TIME, 1000000)
    # A second frame finds no buffer and waits in the ring through a save
    # and restore; the buffer offered again (entry 1) then takes it.
    out += struct.pack("<BH", NET_PEER_SENDS, len(peer)) + peer + bytes([NET_SAVE_LOAD])
    out += ram_write(0x2000, struct.pack("<HHHH", 0, 2, 0, 0)) + notify(0)
    return out + struct.pack("<BI", NET_TIME, 1000000)


SDT_HEADER = 36
LAPIC_ADDRESS, PCAT_COMPAT = 0xFEE00000, 1
MADT_ENABLED = 1


def madt():
    entries = (struct.pack("<BBBBI", 0, 8, 0, 0, MADT_ENABLED) +
               struct.pack("<BBBBI", 0, 8, 1, 1, MADT_ENABLED) +
               struct.pack("<BBBBII", 1, 12, 2, 0, 0xFEC00000, 0) +
               struct.pack("<BBBBIH", 2, 10, 0, 0, 2, 0) +
               struct.pack("<BBHIII", 9, 16, 0, 300, MADT_ENABLED, 2))
    length = SDT_HEADER + 8 + len(entries)
    header = struct.pack("<4sIBB6s8sI4sI", b"APIC", length, 5, 0, b"PGVSR ", b"FUZZMADT", 1,
                         b"PGVS", 1)
    body = header + struct.pack("<II", LAPIC_ADDRESS, PCAT_COMPAT) + entries
    checksum = (-sum(body)) & 0xFF
    return body[:9] + bytes([checksum]) + body[10:]


GPT_SEAL = 1
GPT_TABLE_SECTORS = 2 + 128 * 128 // SECTOR  # MBR, header, entry array


def gpt(path):
    with open(path, "rb") as f:
        disk = f.read()
    head = struct.pack("<BI", GPT_SEAL, len(disk) // SECTOR)
    return head + disk[:GPT_TABLE_SECTORS * SECTOR]


STREAM_MAGIC, STREAM_VERSION, STREAM_OPTIONAL = 0x4D52545354534750, 2, 0x80000000
STREAM_END, STREAM_VM_CONFIG, STREAM_PAGE_DATA = 0, 1, 3
CRC32C_POLY = 0x82F63B78  # reflected Castagnoli


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (CRC32C_POLY if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def record(kind, body, instance=0):
    head = struct.pack("<III", kind, instance, len(body))
    crc = crc32c(body, crc32c(head))
    return head + struct.pack("<I", crc) + body + bytes(-len(body) % 8)


def pages(frames, fill):
    body = struct.pack("<II", len(frames), 0) + b"".join(struct.pack("<Q", f) for f in frames)
    return body + b"".join(bytes([fill + f]) * 4096 for f in frames)


def migration_stream():
    out = struct.pack("<QII", STREAM_MAGIC, STREAM_VERSION, 0)
    out += record(STREAM_VM_CONFIG, struct.pack("<Q", 0x1234))
    out += record(STREAM_PAGE_DATA, pages([0, 2], 0x10))
    out += record(STREAM_OPTIONAL | 0x7F, struct.pack("<I", 5))
    out += record(STREAM_PAGE_DATA, pages([2], 0x20))
    return out + record(STREAM_END, b"")


def main(argv):
    if argv[:1] == ["mb2-info"]:
        out = mb2_info()
    elif argv[:1] == ["efi-memmap"]:
        out = bytes([EFI_DESC_SIZE]) + efi_map()
    elif argv[:1] == ["virtio-blk"]:
        out = bytes([1]) + virtio_blk()  # the first byte: a writable disk
    elif argv[:1] == ["madt"]:
        out = madt()
    elif argv[:1] == ["gpt"] and len(argv) == 2:
        out = gpt(argv[1])
    elif argv[:1] == ["virtio-net"]:
        out = bytes([1]) + virtio_net()  # the first byte: frames delivered directly
    elif argv[:1] == ["virtio-console"]:
        out = virtio_console()
    elif argv[:1] == ["migration-stream"]:
        out = bytes([0x0B, 0x07]) + migration_stream()  # chunks of 12 and 8 bytes
    elif argv[:1] == ["bzimage"] and len(argv) <= 2:
        out = cut_bzimage(argv[1]) if len(argv) == 2 else minimal_bzimage()
    else:
        sys.exit(__doc__)
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main(sys.argv[1:])
