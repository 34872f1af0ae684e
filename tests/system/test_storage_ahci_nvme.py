"""pgvisor's AHCI, NVMe and ATA drivers on QEMU's controllers (TCG has no VT-x,
so pgvisor powers off once storage is up): selftest=disk-errors reads past
the disk's end and then sector 0, and selftest=storage writes, flushes
and reads back the scratch partition through each, the pattern landing in
the image at the partition's offset while its neighbours stay as they were;
a plain boot lists the disk's named partitions and writes nothing. Under
UEFI the NVMe registers lie above 4 GiB. A namespace of 4 KiB blocks is
refused. A medium error (QEMU's blkdebug) fails the self-test with the
device's status, and the disk answers the requests after it."""
import re

import pytest

from test_storage import SECTOR, SELFTEST_BYTES, disk, pattern  # noqa: F401 (disk: a fixture)

# scripts/mkdisk's layout of the disk fixture: 1 MiB-aligned, in order.
LAYOUT = {"boot": 2048, "scratch": 4096, "data": 6144}
BUSES = [("nvme", "nvme0n1"), ("ahci", "ahci0"), ("ide", "ata0")]
DRIVER = {"nvme": "nvme", "ahci": "ahci", "ide": "ata"}
# What QEMU's controllers answer a read past the end: NVMe status "LBA out
# of range" (generic 80h); ATA ABRT in the error register, ERR in status.
DEVICE_ERROR = {"nvme": "device error sct 0 sc 0x80",
                "ahci": "device error status 0x41 error 0x04 (interrupt status 0x40000001)",
                "ide": "device error 0x04 (status 0x41)"}


def passed(name):
    return re.compile(rf"^pgvisor: selftest: storage {name}/scratch: wrote 256 KiB, flushed, "
                      r"read back: passed \(write ([\d.]+) MB/s, read ([\d.]+) MB/s\)$")


def partitions(run, name):
    pattern = re.compile(rf"^pgvisor: disk {name}: partition '(\S+)' at sector (\d+)")
    return {m.group(1): int(m.group(2)) for m in map(pattern.match, run.lines) if m}


def disk_sectors(run, name):
    sizes = [int(m.group(1)) for m in
             map(re.compile(rf"^pgvisor: disk {name}: '.*', (\d+) sectors").match, run.lines) if m]
    assert len(sizes) == 1, run.output
    return sizes[0]


def driven_by(run, bus):
    return any(re.match(rf"^pgvisor: pci [0-9a-f:.]+ [0-9a-f]{{4}}:[0-9a-f]{{4}}: driven by "
                        rf"{DRIVER[bus]}$", line) for line in run.lines)


@pytest.mark.parametrize("bus,name", BUSES, ids=[bus for bus, _ in BUSES])
def test_error_and_storage_selftests_qemu(run_pgvisor, disk, bus, name):  # noqa: F811
    image, contents = disk
    run = run_pgvisor(["configs/hello.cfg"], emu="qemu", timeout=60,
                      cmdline="selftest=disk-errors,storage",
                      run_options=["--disk", image, "--disk-bus", bus])
    assert run.status == 0, run.output
    assert "pgvisor: result: success" in run.lines
    assert driven_by(run, bus), run.output
    # The sector past the end fails with the device's own error, and the
    # next request works: the driver recovered (before the storage test).
    errors = [line for line in run.lines if line.startswith("pgvisor: selftest: disk-errors ")]
    assert errors == [f"pgvisor: selftest: disk-errors {name}: sector {disk_sectors(run, name)}: "
                      f"{DEVICE_ERROR[bus]}; then sector 0: passed"], run.output
    assert any(passed(name).match(line) for line in run.lines), run.output
    assert partitions(run, name) == LAYOUT, run.output
    written = image.read_bytes()
    scratch = LAYOUT["scratch"] * SECTOR
    assert written[scratch:scratch + SELFTEST_BYTES] == pattern(SELFTEST_BYTES)
    assert written[scratch + SELFTEST_BYTES:scratch + len(contents["scratch"])] == \
        contents["scratch"][SELFTEST_BYTES:]
    for neighbour in ("boot", "data"):
        start = LAYOUT[neighbour] * SECTOR
        assert written[start:start + len(contents[neighbour])] == contents[neighbour], neighbour


def test_selftest_storage_nvme_uefi_high_bar(run_pgvisor, disk):  # noqa: F811
    """OVMF puts the NVMe controller's 64-bit BAR above 4 GiB, beyond the
    identity map of RAM: the driver maps it uncached."""
    image, _ = disk
    run = run_pgvisor(["configs/hello.cfg"], emu="qemu", uefi=True, timeout=120,
                      cmdline="selftest=storage",
                      run_options=["--disk", image, "--disk-bus", "nvme"])
    assert run.status == 0, run.output
    bars = [int(m.group(1), 16) for m in
            map(re.compile(r"^pgvisor: nvme [0-9a-f:.]+: .* registers at 0x([0-9a-f]+),").match,
                run.lines) if m]
    assert len(bars) == 1 and bars[0] >= 1 << 32, run.output
    assert any(passed("nvme0n1").match(line) for line in run.lines), run.output
    scratch = LAYOUT["scratch"] * SECTOR
    assert image.read_bytes()[scratch:scratch + SELFTEST_BYTES] == pattern(SELFTEST_BYTES)


@pytest.mark.parametrize("bus,name", BUSES, ids=[bus for bus, _ in BUSES])
def test_boot_lists_the_partitions_and_writes_nothing(run_pgvisor, disk, bus, name):  # noqa: F811
    image, _ = disk
    before = image.read_bytes()
    run = run_pgvisor(["configs/hello.cfg"], emu="qemu", timeout=60,
                      run_options=["--disk", image, "--disk-bus", bus])
    assert "pgvisor: result: no-vtx" in run.lines, run.output
    assert partitions(run, name) == LAYOUT, run.output
    assert any(line.startswith(f"pgvisor: disk {name}: 'QEMU ") for line in run.lines)
    assert any("'boot'" in line and "boot partition (read-only to VMs)" in line
               for line in run.lines if line.startswith(f"pgvisor: disk {name}:"))
    assert image.read_bytes() == before


def test_nvme_namespace_of_4k_blocks_is_refused(run_pgvisor, disk):  # noqa: F811
    """pgvisor's disks have 512-byte sectors: a namespace formatted with 4 KiB
    blocks is left alone, said in one line, and boot goes on."""
    image, _ = disk
    before = image.read_bytes()
    run = run_pgvisor(["configs/hello.cfg"], emu="qemu", timeout=60,
                      run_options=["--disk", image, "--disk-bus", "nvme-4k"])
    assert "pgvisor: nvme0n1: not used: formatted with 4096-byte blocks and 0 bytes of " \
        "metadata, pgvisor needs 512 and 0" in run.lines, run.output
    assert not any(line.startswith("pgvisor: disk nvme0n1") for line in run.lines)
    assert "pgvisor: result: no-vtx" in run.lines, run.output
    assert image.read_bytes() == before


# What QEMU's controllers answer a write that fails with EIO (blkdebug):
# NVMe "Write Fault" (media errors, 2/80h); ATA ABRT.
MEDIUM_ERROR = {"nvme": "device error sct 2 sc 0x80",
                "ahci": "device error status 0x41 error 0x04 (interrupt status 0x40000001)",
                "ide": "device error 0x04 (status 0x41)"}


@pytest.mark.parametrize("bus,name", BUSES, ids=[bus for bus, _ in BUSES])
def test_medium_error_is_reported_and_the_disk_works_after(run_pgvisor, disk, bus,  # noqa: F811
                                                           name):
    image, _ = disk
    run = run_pgvisor(["configs/hello.cfg"], emu="qemu", timeout=60,
                      cmdline="selftest=storage,disk-errors",
                      run_options=["--disk", image, "--disk-bus", bus,
                                   "--disk-io-error", LAYOUT["scratch"] + 100])
    assert (f"pgvisor: selftest: storage {name}/scratch: failed: {MEDIUM_ERROR[bus]}; "
            "reading its first sector after that: passed" in run.lines), run.output
    # The next requests (past the end, then sector 0) behave.
    assert any(line.startswith(f"pgvisor: selftest: disk-errors {name}: ") and
               line.endswith("; then sector 0: passed") for line in run.lines), run.output
    assert "pgvisor: result: failure" in run.lines
    assert run.status == 1
