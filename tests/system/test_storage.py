"""pgvisor's own disks: the ATA driver, GPT scan and selftest=storage, on
disk images from scripts/mkdisk attached with scripts/run --disk."""
import re
import subprocess
import struct
import zlib

import pytest

from conftest import ROOT

MKDISK = ROOT / "scripts" / "mkdisk"
SECTOR = 512
# drivers/storage/storage_selftest.h: the pattern and how much of it.
SELFTEST_BYTES = 256 * 1024
SELFTEST_SEED = 0x70677669736F72
SELFTEST_MULTIPLIER = 0x9E3779B97F4A7C15
WORD_MASK = (1 << 64) - 1
PASSED = re.compile(r"^pgvisor: selftest: storage ata0/scratch: wrote 256 KiB, flushed, "
                    r"read back: passed \(write ([\d.]+) MB/s, read ([\d.]+) MB/s\)$")
PARTITION = re.compile(r"^pgvisor: disk ata0: partition '(\S+)' at sector (\d+)")
# GPT header and entry fields (UEFI 2.10, 5.3.2-5.3.3) the lying tables change.
HEADER_CRC = 16
HEADER_SIZE = 92
ENTRIES_CRC = 88
ENTRIES_BYTES = 128 * 128
ENTRY_SIZE = 128
ENTRY_LAST_LBA = 40


def pattern(nbytes):
    return b"".join(struct.pack("<Q", ((SELFTEST_SEED + k) * SELFTEST_MULTIPLIER) & WORD_MASK)
                    for k in range(nbytes // 8))


def filler(nbytes, seed):
    """Bytes a partition holds before the run: none of them the pattern."""
    return bytes((i * 7 + seed + (i >> 9)) & 0xFF for i in range(nbytes))


@pytest.fixture
def disk(bench):
    """A 3-partition disk: 'boot' (EFI system), 'scratch' and 'data', each
    filled with its own bytes. Returns (image path, {name: bytes})."""
    contents = {"boot": filler(1 << 20, 1), "scratch": filler(512 << 10, 2),
                "data": filler(1 << 20, 3)}
    specs = []
    for name, data in contents.items():
        path = bench.dir / f"{name}.bin"
        path.write_bytes(data)
        specs.append(f"{name}:{len(data)}:{path}")
    image = bench.dir / "disk.img"
    bench.script(MKDISK, ["--esp", "boot", image] + specs)
    return image, contents


def partitions(run):
    return {m.group(1): int(m.group(2)) for m in map(PARTITION.match, run.lines) if m}


def test_selftest_storage_qemu_ide(run_pgvisor, disk):
    image, contents = disk
    run = run_pgvisor(["configs/hello.cfg"], emu="qemu", timeout=60, cmdline="selftest=storage",
                      run_options=["--disk", image, "--disk-bus", "ide"])
    assert run.status == 0, run.output
    assert "pgvisor: ata: primary master: not used: an ATAPI device (CD/DVD), not a disk" \
        in run.lines
    assert "pgvisor: ata: secondary master: LBA48, bus-master DMA" in run.lines
    assert any(PASSED.match(line) for line in run.lines), run.output
    assert "pgvisor: VT-x: not available: this CPU does not support VMX (CPUID.1:ECX.VMX = 0)" \
        in run.lines
    # The partitions where scripts/mkdisk put them, the boot one marked.
    assert partitions(run) == {"boot": 2048, "scratch": 4096, "data": 6144}, run.output
    assert any("'boot'" in line and "boot partition (read-only to VMs)" in line
               for line in run.lines)
    # On the image: the pattern at the scratch partition's start, the rest
    # of it and its neighbours as they were.
    written = image.read_bytes()
    scratch = 4096 * SECTOR
    assert written[scratch:scratch + SELFTEST_BYTES] == pattern(SELFTEST_BYTES)
    assert written[scratch + SELFTEST_BYTES:scratch + len(contents["scratch"])] == \
        contents["scratch"][SELFTEST_BYTES:]
    assert written[2048 * SECTOR:2048 * SECTOR + (1 << 20)] == contents["boot"]
    assert written[6144 * SECTOR:6144 * SECTOR + (1 << 20)] == contents["data"]


def reseal(table):
    """Recomputes the primary entry array's CRC and the header's."""
    header = 1 * SECTOR
    entries = table[2 * SECTOR:2 * SECTOR + ENTRIES_BYTES]
    struct.pack_into("<I", table, header + ENTRIES_CRC, zlib.crc32(entries))
    struct.pack_into("<I", table, header + HEADER_CRC, 0)
    struct.pack_into("<I", table, header + HEADER_CRC,
                     zlib.crc32(table[header:header + HEADER_SIZE]))


def break_entries_crc(table):
    table[2 * SECTOR + ENTRY_SIZE + 56] ^= 0x20  # 'scratch' -> 'Scratch', CRC not updated


def overlap(table):
    # 'scratch' (entry 1) runs into 'data' at sector 6144; both CRCs right.
    struct.pack_into("<Q", table, 2 * SECTOR + ENTRY_SIZE + ENTRY_LAST_LBA, 6200)
    reseal(table)


@pytest.mark.parametrize("lie,why", [
    (break_entries_crc, "GPT entry array CRC mismatch"),
    (overlap, "GPT partitions 'scratch' and 'data' overlap"),
], ids=["bad-crc", "overlap"])
def test_lying_gpt_refuses_the_disk_and_boot_goes_on(run_pgvisor, disk, lie, why):
    image, _ = disk
    table = bytearray(image.read_bytes())
    lie(table)
    image.write_bytes(table)
    run = run_pgvisor(["configs/hello.cfg"], emu="qemu", timeout=60,
                      run_options=["--disk", image])
    assert run.lines_with_prefix("pgvisor: disk ata0: not used:") == \
        [f"pgvisor: disk ata0: not used: {why}"], run.output
    assert partitions(run) == {}
    # The boot went on to VT-x, which QEMU TCG lacks.
    assert "pgvisor: result: no-vtx" in run.lines, run.output
    assert image.read_bytes() == table


def test_selftest_storage_reports_a_device_error(run_pgvisor, disk):
    """A medium error inside the tested sectors (QEMU's blkdebug fails the
    DMA write): the driver's "device error" line, and the run fails."""
    image, _ = disk
    run = run_pgvisor(["configs/hello.cfg"], emu="qemu", timeout=60, cmdline="selftest=storage",
                      run_options=["--disk", image, "--disk-io-error", 4096 + 100])
    failed = [line for line in run.lines if line.startswith("pgvisor: selftest: storage ata0/")]
    assert len(failed) == 1 and re.match(
        r"^pgvisor: selftest: storage ata0/scratch: failed: device error 0x04 "
        r"\(status 0x[0-9a-f]{2}\)$", failed[0]), run.output
    assert "pgvisor: result: failure" in run.lines
    assert run.status == 1


def test_selftest_storage_without_scratch_fails(run_pgvisor, bench):
    image = bench.dir / "disk.img"
    bench.script(MKDISK, [image, "data:1M"])
    run = run_pgvisor(["configs/hello.cfg"], emu="qemu", timeout=60, cmdline="selftest=storage",
                      run_options=["--disk", image])
    assert "pgvisor: selftest: storage ata0: no partition 'scratch', not tested" in run.lines
    assert "pgvisor: selftest: storage: failed: no disk has a partition 'scratch'" in run.lines
    assert run.status == 1, run.output


def test_selftest_storage_bochs_dma(run_pgvisor, disk):
    image, _ = disk
    run = run_pgvisor(["configs/hello.cfg"], emu="bochs", timeout=120,
                      cmdline="selftest=storage", run_options=["--disk", image])
    assert run.status == 0, run.output
    assert "pgvisor: ata: primary slave: LBA48, bus-master DMA" in run.lines, run.output
    assert any(PASSED.match(line) for line in run.lines), run.output
    assert "pgvisor: VT-x: available" in run.lines
    scratch = 4096 * SECTOR
    assert image.read_bytes()[scratch:scratch + SELFTEST_BYTES] == pattern(SELFTEST_BYTES)


def test_mkdisk_layout(tmp_path):
    """Both tables right (signature, CRCs, where each points), the image a
    whole number of Bochs cylinders, names and types as asked."""
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 1000)
    image = tmp_path / "d.img"
    subprocess.run([str(MKDISK), "--esp", "esp", str(image), "esp:8M", f"data:512K:{data}"],
                   check=True)
    disk = image.read_bytes()
    total = len(disk) // SECTOR
    assert len(disk) % (16 * 63 * SECTOR) == 0
    assert disk[510:512] == b"\x55\xaa" and disk[446 + 4] == 0xEE
    for lba, other in ((1, total - 1), (total - 1, 1)):
        h = disk[lba * SECTOR:lba * SECTOR + HEADER_SIZE]
        assert h[:8] == b"EFI PART"
        crc = struct.unpack_from("<I", h, HEADER_CRC)[0]
        assert zlib.crc32(h[:HEADER_CRC] + b"\0\0\0\0" + h[HEADER_CRC + 4:]) == crc
        my, alternate, first, last, _, entries_lba = struct.unpack_from("<QQQQ16sQ", h, 24)
        assert (my, alternate) == (lba, other)
        assert (first, last) == (34, total - 34)
        entries = disk[entries_lba * SECTOR:entries_lba * SECTOR + ENTRIES_BYTES]
        assert zlib.crc32(entries) == struct.unpack_from("<I", h, ENTRIES_CRC)[0]
    esp, second = (disk[2 * SECTOR + i * ENTRY_SIZE:2 * SECTOR + (i + 1) * ENTRY_SIZE]
                   for i in range(2))
    assert esp[:16] == bytes.fromhex("28732ac11ff8d211ba4b00a0c93ec93b")
    assert struct.unpack_from("<QQ", esp, 32) == (2048, 2048 + 8 * 2048 - 1)
    assert esp[56:56 + 6] == "esp".encode("utf-16-le")
    assert second[:16] == bytes.fromhex("af3dc60f838472478e793d69d8477de4")  # Linux data
    assert struct.unpack_from("<QQ", second, 32) == (18432, 18432 + 1023)
    assert disk[18432 * SECTOR:18432 * SECTOR + 1001] == b"x" * 1000 + b"\0"


@pytest.mark.parametrize("args,message", [
    (["big:1K:FILE"], "does not fit in partition 'big'"),
    (["odd:1000"], "a positive multiple of 512 bytes"),
    (["a:1M", "a:1M"], "partition names must differ"),
    (["--esp", "nope", "a:1M"], "--esp nope: no such partition"),
])
def test_mkdisk_refuses(tmp_path, args, message):
    big = tmp_path / "big.bin"
    big.write_bytes(b"y" * 2000)
    args = [a.replace("FILE", str(big)) for a in args]
    p = subprocess.run([str(MKDISK), str(tmp_path / "d.img")] + args, capture_output=True,
                       text=True)
    assert p.returncode == 1
    assert message in p.stderr
    assert not (tmp_path / "d.img").exists()
