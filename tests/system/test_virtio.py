"""Virtio devices for Linux guests: an ext4 disk that keeps what the guest
wrote across a reboot, a read-only disk, and VMs on a bridge of pgvisor's
switch talking TCP while a VM on another bridge hears nothing."""
import hashlib
import re

import pytest

from conftest import BUILD, ROOT, make

LINUX = BUILD / "guests" / "linux"
BAD = re.compile(r"Kernel panic|\bOops\b|BUG:|Call Trace|WARNING:|general protection", re.I)
# 1 MiB of "seq 1 200000 | head -c 1048576", as guest/linux/init sends it.
NC_MD5 = hashlib.md5("".join(f"{i}\n" for i in range(1, 200001)).encode()[:1 << 20]).hexdigest()


@pytest.fixture(scope="module", autouse=True)
def linux_guest():
    make("guest-linux")


def linux_cfg(bench, name, cmdline, memory=128, extra=""):
    path = bench.dir / f"{name}.cfg"
    path.write_text(f'name = "{name}"\n'
                    f'kernel = "../../guests/linux/vmlinuz"\n'
                    f'ramdisk = "../../guests/linux/initrd.img"\n'
                    f'memory = {memory}\n'
                    f'cmdline = "console=ttyS0 quiet cryptomgr.notests {cmdline}"\n' + extra)
    return str(path.relative_to(ROOT))


def no_kernel_trouble(lines):
    bad = [l for l in lines if BAD.search(l)]
    assert not bad, "\n".join(bad)


def test_disk_keeps_writes_across_a_reboot_through_intx(run_pgvisor, bench):
    # pci=nomsi: virtio_pci falls back to INTA, which the guest routes
    # with the _PRT pgvisor's DSDT gives (device 1, pin A -> GSI 16). (The
    # other virtio tests take MSI-X.)
    cfg = linux_cfg(bench, "store", "pgvisor.test=disk pgvisor.reboot=1 pci=nomsi",
                    extra='disk = [ "../../guests/linux/disk.ext4,raw,vda,rw",\n'
                          '         "../../guests/linux/tools.img,raw,vdb,ro" ]\n')
    run = run_pgvisor([cfg], mem=256, timeout=300)
    lines = run.vm_lines("store")
    hello = (LINUX / "disk-hello.sha256").read_text().split()[0]
    # First boot: the image's file as built, a write read back after a
    # remount, the read-only disk readable and not writable.
    first = lines[:lines.index("LINUX-GUEST: disk rebooting")]
    assert f"LINUX-GUEST: disk sha256 {hello}" in first, run.output
    assert "LINUX-GUEST: disk remount written by pgvisor guest" in first
    assert "LINUX-GUEST: vdb tools pgvisor tools disk" in first
    assert "LINUX-GUEST: vdb readonly ok" in first
    # The guest's reboot restarts the VM; its disk is the same copy.
    assert any(re.match(r"pgvisor: vm store: restarting \(1 of \d+\)", l) for l in run.lines)
    second = lines[lines.index("LINUX-GUEST: disk rebooting"):]
    assert "LINUX-GUEST: disk found written written by pgvisor guest" in second, run.output
    assert f"LINUX-GUEST: disk sha256 {hello}" in second
    assert "pgvisor: vm store: powered off (ACPI S5)" in run.lines
    # The second boot's requests, as the device counted them: reads, no
    # errors (the guest's write to vdb never reached the device: the
    # kernel honoured VIRTIO_BLK_F_RO).
    vda = next(l for l in run.lines if l.startswith("pgvisor:   vm store: virtio-blk vda:"))
    m = re.search(r": (\d+) reads \(\d+ KiB\), \d+ writes \(\d+ KiB\), \d+ flushes, (\d+) errors",
                  vda)
    assert m and int(m.group(1)) > 0 and m.group(2) == "0", vda
    text = "\n".join(lines)
    m = re.search(r"^\s*16:\s+(\d+)\s+IO-APIC\s+16-fasteoi\s+virtio0$", text, re.M)
    assert m and int(m.group(1)) > 0, text
    assert "PCI-MSI" not in text
    no_kernel_trouble(lines)
    assert run.status == 0


def test_vms_on_a_bridge_talk_and_another_bridge_hears_nothing(run_pgvisor, bench):
    net = "pgvisor.test=net pgvisor.ip=10.0.0.{} pgvisor.peer=10.0.0.{} pgvisor.nc={}"
    cfgs = [
        linux_cfg(bench, "net-a", net.format("1/24", 2, "recv"),
                  extra='vif = [ "mac=02:00:00:00:00:01,bridge=lan0" ]\n'),
        # net-b also counts for 20 s of its clock from the transfer's
        # start, across its migration (the counter loop of issue 19).
        linux_cfg(bench, "net-b", net.format("2/24", 1, "send") + " pgvisor.count=20",
                  extra='vif = [ "mac=02:00:00:00:00:02,bridge=lan0" ]\n'),
        # Same subnet, other bridge: it must reach neither.
        linux_cfg(bench, "net-c", "pgvisor.test=net pgvisor.ip=10.0.0.3/24 "
                  "pgvisor.peer=10.0.0.1", memory=96,
                  extra='vif = [ "bridge=lan1" ]\n'),
    ]
    # net-b migrates live within the machine while it sends (issue 19):
    # its new slot's virtio-net takes the source's switch port and MAC over
    # at the switch, so net-a's TCP connection just sees a pause. Ctrl-A
    # three times moves the console's input net-a, net-b, net-c, pgvisor.
    steps = [
        r"expect \[net-b\] LINUX-GUEST: nc sending",
        r"send \x01\x01\x01",
        r"expect input goes to vm net-b",
        r"send \x01\x01\x01",
        r"expect input goes to vm net-c",
        r"send \x01\x01\x01",
        r"expect input goes to the pgvisor command line",
        r"send migrate net-b\r",
        r"expect vm net-b: migrated: downtime",
    ]
    run = run_pgvisor(cfgs, mem=512, timeout=540, input=steps)
    assert not run.input_pending, run.output
    a, b, c = (run.vm_lines(n) for n in ("net-a", "net-b", "net-c"))
    # It moved while it sent: the transfer ends after the migration began.
    began = run.lines.index(next(l for l in run.lines
                                 if l.startswith("pgvisor: vm net-b: migrating live")))
    assert run.lines.index("[net-b] LINUX-GUEST: nc sent") > began, run.output
    assert "pgvisor: vm net-b: migrated to a new slot, this one freed" in run.lines, run.output
    # The counter went on across the move: counts before it began and after
    # the destination ran, each number once and in order, the guest's clock
    # never going back nor jumping (a count every 0.2 s, the VM down ~60 ms).
    arrived = run.lines.index(next(l for l in run.lines
                                   if l.startswith("pgvisor: vm net-b: migrated: downtime")))
    counts = [(i, int(m.group(1)), int(m.group(2))) for i, l in enumerate(run.lines)
              if (m := re.fullmatch(r"\[net-b\] LINUX-GUEST: count (\d+) at (\d+)", l))]
    assert [n for _, n, _ in counts] == list(range(1, len(counts) + 1)), counts
    assert f"[net-b] LINUX-GUEST: count done {len(counts)}" in run.lines, run.output
    assert counts[0][0] < began and counts[-1][0] > arrived, (began, arrived, counts)
    steps_cs = [b - a for (_, _, a), (_, _, b) in zip(counts, counts[1:])]
    assert all(0 < d < 300 for d in steps_cs), steps_cs
    assert "LINUX-GUEST: net up 10.0.0.1/24" in a, run.output
    assert "LINUX-GUEST: ping ok" in a and "LINUX-GUEST: ping ok" in b
    assert f"LINUX-GUEST: nc sending {NC_MD5}" in b
    assert "LINUX-GUEST: nc sent" in b
    assert f"LINUX-GUEST: nc received 1048576 {NC_MD5}" in a
    assert "LINUX-GUEST: net up 10.0.0.3/24" in c
    assert "LINUX-GUEST: ping failed" in c
    # The switch's counters: a and b exchanged the megabyte (at least 1 MiB
    # / 1500 bytes of frames each way counting ACKs), c received nothing.
    # (net-b's two slots, the freed source and its copy, add up.)
    port = {}
    for name in ("net-a", "net-b", "net-c"):
        port[name] = [0] * 5
        for line in (l for l in run.lines if l.startswith(f"pgvisor:   vm {name}: virtio-net eth0")):
            m = re.search(r"sent (\d+) frames \((\d+) bytes\), received (\d+) \((\d+) bytes\), "
                          r"dropped (\d+)", line)
            assert m, line
            port[name] = [x + int(y) for x, y in zip(port[name], m.groups())]
    assert port["net-b"][1] > 1 << 20 and port["net-a"][3] > 1 << 20, port
    assert port["net-c"][2] == 0 and port["net-c"][0] > 0, port
    # net-c's generated MAC is locally administered unicast.
    mac = re.search(r"vm net-c: virtio-net eth0 \(bridge lan1, ([0-9a-f:]+)\)", run.output)
    assert mac and int(mac.group(1)[:2], 16) & 3 == 2, run.output
    for lines in (a, b, c):
        no_kernel_trouble(lines)
    assert run.status == 0


def test_missing_disk_image_stops_only_its_vm(run_pgvisor, bench):
    broken = bench.dir / "nodisk.cfg"
    broken.write_text('name = "nodisk"\nkernel = "../../guests/hello.elf"\n'
                      'disk = [ "absent.img,raw,vda,rw" ]\n')
    hello = bench.dir / "hello.cfg"
    hello.write_text('name = "hello"\nkernel = "../../guests/hello.elf"\n')
    run = run_pgvisor([str(p.relative_to(ROOT)) for p in (broken, hello)], timeout=60)
    assert any(re.fullmatch(r"pgvisor: vm nodisk: disk vda: file '\S*absent.img' was not "
                            r"loaded by the boot loader", l) for l in run.lines), run.output
    assert "pgvisor: vm nodisk: not started" in run.lines
    assert "pgvisor:   vm hello: exited with status 1 (value 0), restarts 0" in run.lines, \
        run.output
