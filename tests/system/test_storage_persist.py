"""VM disks on partitions of the machine's own disk (disk target
"part:NAME"): what a Linux VM writes outlives the VM and the machine, a
partition has one writer, and a machine killed in the middle of a write
burst comes back with a clean filesystem holding every write it flushed.

One GPT disk image (scripts/mkdisk) goes through two separate Bochs runs
on its ATA channel, each a fresh emulator process:
  1. VM "writer" writes a file on the ext4 partition and a raw pattern on
     another, syncs and unmounts, then writes and syncs one file after
     another until the test kills the emulator; VMs that ask for the same
     partition writable, for a missing one, or for the boot partition
     writable are refused, each with one line.
  2. VM "recover" (another config, on a fresh machine) mounts the
     filesystem (its journal replays) and lists the files: every one
     announced as flushed in run 1 is there, intact; then it reads the
     first file and the raw pattern back.
Between and after the runs the test reads the image on the host: the raw
pattern at the partition's offset, the neighbouring partition untouched,
e2fsck -fn clean once the journal has replayed."""
import hashlib
import re
import struct
import subprocess

import pytest

from conftest import BUILD, MKISO, ROOT, make

LINUX = BUILD / "guests" / "linux"
MKDISK = ROOT / "scripts" / "mkdisk"
SECTOR = 512
BAD = re.compile(r"Kernel panic|\bOops\b|BUG:|Call Trace|WARNING:|EXT4-fs error", re.I)


def seq_bytes(first, last):
    return "".join(f"{i}\n" for i in range(first, last + 1)).encode()


# What guest/linux/init's store steps write.
PERSIST_MD5 = hashlib.md5(seq_bytes(1, 40000)).hexdigest()
RAW = seq_bytes(7, 20000)[:65536]
RAW_MD5 = hashlib.md5(RAW).hexdigest()
KEEP = bytes((i * 13 + 5) & 0xff for i in range(1 << 20))


def burst_md5(i):
    return hashlib.md5(seq_bytes(i, i + 3000)).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def linux_guest():
    make("guest-linux")


def gpt_partitions(image):
    """{name: (first byte, length)} from the image's primary GPT."""
    with open(image, "rb") as f:
        f.seek(SECTOR)
        hdr = f.read(92)
        assert hdr[:8] == b"EFI PART", "no GPT header"
        entries_lba, count, size = struct.unpack_from("<QII", hdr, 72)
        f.seek(entries_lba * SECTOR)
        table = f.read(count * size)
    parts = {}
    for i in range(count):
        e = table[i * size:(i + 1) * size]
        if e[:16] == bytes(16):
            continue
        first, last = struct.unpack_from("<QQ", e, 32)
        name = e[56:128].decode("utf-16-le").rstrip("\0")
        parts[name] = (first * SECTOR, (last - first + 1) * SECTOR)
    return parts


def extract(image, part, out):
    start, length = part
    with open(image, "rb") as f:
        f.seek(start)
        data = f.read(length)
    out.write_bytes(data)
    return data


def e2fsck_clean(path):
    p = subprocess.run(["/sbin/e2fsck", "-fn", str(path)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert p.returncode == 0, p.stdout


def cfg(bench, name, step, disks, kernel="linux"):
    path = bench.dir / f"{name}.cfg"
    if kernel == "linux":
        text = (f'name = "{name}"\n'
                f'kernel = "../../guests/linux/vmlinuz"\n'
                f'ramdisk = "../../guests/linux/initrd.img"\n'
                f'memory = 128\n'
                f'cmdline = "console=ttyS0 quiet cryptomgr.notests pgvisor.test=store '
                f'pgvisor.store={step}"\n')
    else:
        text = f'name = "{name}"\nkernel = "../../guests/hello.elf"\n'
    text += "disk = [ " + ", ".join(f'"{d}"' for d in disks) + " ]\n"
    path.write_text(text)
    return str(path.relative_to(ROOT))


def boot(bench, built_pgvisor, image, cfgs, timeout, stop_on=None):
    label = bench.label("pgvisor-bochs-disk")
    iso = bench.dir / f"{label}.iso"
    bench.script(MKISO, ["--kernel", built_pgvisor, iso] + list(cfgs))
    options = ["--mem", "256", "--disk", str(image)]
    if stop_on:
        options += ["--stop-on", stop_on]
    return bench.run(label, iso, "bochs", timeout, options)


def no_kernel_trouble(lines):
    bad = [l for l in lines if BAD.search(l)]
    assert not bad, "\n".join(bad)


def test_vm_data_outlives_the_machine_and_survives_a_kill(bench, built_pgvisor, tmp_path):
    data = tmp_path / "data.ext4"
    subprocess.run(["/sbin/mkfs.ext4", "-q", "-F", "-b", "1024", "-L", "vmdata", str(data),
                    "8M"], check=True)
    keep = tmp_path / "keep.bin"
    keep.write_bytes(KEEP)
    image = bench.dir / "machine.img"
    bench.script(MKDISK, ["--esp", "boot", image, f"data:8M:{data}", "raw:1M",
                          f"keep:1M:{keep}", "boot:1M"])
    parts = gpt_partitions(image)
    assert set(parts) == {"data", "raw", "keep", "boot"}, parts

    # Run 1: write, and the partition holds; then file after file until
    # the emulator is killed mid-burst.
    writer = cfg(bench, "writer", "write,burst",
                 ["part:data,raw,vda,rw", "part:raw,raw,vdb,rw"])
    thief = cfg(bench, "thief", None, ["part:data,raw,vda,rw"], kernel="hello")
    ghost = cfg(bench, "ghost", None, ["part:nosuch,raw,vda,ro"], kernel="hello")
    booter = cfg(bench, "booter", None, ["part:boot,raw,vda,rw"], kernel="hello")
    run = boot(bench, built_pgvisor, image, [writer, thief, ghost, booter], timeout=400,
               stop_on=r"LINUX-GUEST: store flushed 12 ")
    assert "pgvisor: disk ata0: partition 'data' at sector 2048, 8 MiB" in run.lines, run.output
    assert ("pgvisor: vm thief: disk vda: partition 'data' is held writable by writer"
            in run.lines), run.output
    assert "pgvisor: vm thief: not started" in run.lines
    assert ("pgvisor: vm ghost: disk vda: no partition named 'nosuch' on the machine's disks"
            in run.lines), run.output
    assert ("pgvisor: vm booter: disk vda: partition 'boot' holds boot files: never writable "
            "by a VM" in run.lines), run.output
    lines = run.vm_lines("writer")
    assert f"LINUX-GUEST: store wrote {PERSIST_MD5} {RAW_MD5}" in lines, run.output
    # The machine's IDE controller is pgvisor's: the VM sees its own
    # virtio functions, and none of the machine's.
    pci = next(l for l in lines if l.startswith("LINUX-GUEST: store pci "))
    machine = {f"0x{m.group(1)}:0x{m.group(2)}" for m in re.finditer(
        r"pgvisor: pci \S+ ([0-9a-f]{4}):([0-9a-f]{4}) class", run.output)}
    seen = set(pci.split()[3:])
    assert "0x1af4:0x1042" in seen, pci
    assert "0x8086:0x7010" in machine and not seen & (machine - {"0x8086:0x1237"}), (pci, machine)
    no_kernel_trouble(run.lines)
    assert run.end == "stopped", run.output
    flushed = {}
    for l in lines:
        m = re.fullmatch(r"LINUX-GUEST: store flushed (\d+) ([0-9a-f]{32})", l)
        if m:
            flushed[int(m.group(1))] = m.group(2)
    assert len(flushed) >= 12, run.output
    assert all(md5 == burst_md5(i) for i, md5 in flushed.items())
    # On the host: the pattern at the raw partition's offset, its
    # neighbour untouched.
    raw = extract(image, parts["raw"], tmp_path / "raw.bin")
    assert raw[:len(RAW)] == RAW
    assert raw[len(RAW):] == bytes(len(raw) - len(RAW))
    assert extract(image, parts["keep"], tmp_path / "keep.out") == KEEP

    # Run 2, a fresh machine: the filesystem mounts (the journal replays),
    # every flushed file is there and intact, the first run's file and
    # pattern read back; unmounted cleanly, e2fsck finds nothing.
    recover = cfg(bench, "recover", "recover,read",
                  ["part:data,raw,vda,rw", "part:raw,raw,vdb,ro"])
    run = boot(bench, built_pgvisor, image, [recover], timeout=400)
    lines = run.vm_lines("recover")
    assert "LINUX-GUEST: store recovered, journal replays 1" in lines, run.output
    found = {}
    for l in lines:
        m = re.fullmatch(r"LINUX-GUEST: store found (\d+) ([0-9a-f]{32})", l)
        if m:
            found[int(m.group(1))] = m.group(2)
    for i, md5 in flushed.items():
        assert found.get(i) == md5, f"flushed file f{i} lost or changed:\n{run.output}"
    assert f"LINUX-GUEST: store read {PERSIST_MD5} {RAW_MD5}" in lines, run.output
    no_kernel_trouble(run.lines)
    extract(image, parts["data"], tmp_path / "data.final")
    e2fsck_clean(tmp_path / "data.final")
    assert extract(image, parts["keep"], tmp_path / "keep.final") == KEEP
