"""A guest that attacks its own virtio devices (guest/vqhostile) next to a
neighbour that fills its RAM and computes: every bad ring, chain or
register value must cost the hostile VM only its own device (DEVICE_NEEDS_RESET,
one line from pgvisor saying why), the device must work again after a
reset, and neither pgvisor nor the neighbour may notice anything else."""
import re

from conftest import ROOT
from test_multivm import spin_checksum

DISK_BYTES = 64 * 1024
DISK_MAGIC = b"PGVQDISK"
PATTERN = 0x5A17C0DE
# The hostile VM waits DELAY turns (the neighbour's fill is done by then);
# the neighbour's spin outlasts the attacks, so its pattern is in its RAM
# all the while and checked after (the console's order shows both).
DELAY = 10000000
SPIN = 20000000
VM = "vqhostile"

# The attacks in the guest's order, with pgvisor's reason for those that
# must break the device (vmm/dev/virtio/virtqueue.c, virtio_pci.c); None:
# the device must shrug it off.
OUTSIDE = "descriptor outside guest RAM"
LOOPS = "descriptor chain loops"
AHEAD = "available index more than a queue ahead"
NO_HEADER = "request without its header or status byte"
QSIZE = "queue size is not a power of two up to 256"
BLK_ATTACKS = [
    ("desc-outside-ram", OUTSIDE),
    ("desc-at-ram-end", OUTSIDE),
    ("desc-wraps-2^64", OUTSIDE),
    ("desc-above-4g", OUTSIDE),
    ("desc-huge-len", OUTSIDE),
    ("chain-self-loop", LOOPS),
    ("chain-loop-a-b-a", LOOPS),
    ("chain-longer-than-queue", LOOPS),
    ("chain-over-64", "descriptor chain loops or exceeds 64"),
    ("next-beyond-queue", "next index beyond the queue"),
    ("next-0xffff", "next index beyond the queue"),
    ("head-beyond-queue", "head index beyond the queue"),
    ("head-0xffff", "head index beyond the queue"),
    ("readable-after-writable", "readable descriptor after a writable one"),
    ("indirect", "indirect descriptor (not negotiated)"),
    ("avail-idx-far-ahead", AHEAD),
    ("avail-idx-size-plus-one", AHEAD),
    ("no-status-byte", NO_HEADER),
    ("short-header", NO_HEADER),
    ("data-over-avail-ring", AHEAD),
    ("dead-after-break", OUTSIDE),
    ("ring-desc-outside-ram", "descriptor table outside guest RAM"),
    ("ring-desc-wraps", "descriptor table outside guest RAM"),
    ("ring-avail-outside-ram", "available ring outside guest RAM"),
    ("ring-used-above-4g", "used ring outside guest RAM"),
    ("ring-used-event-past-end", "used ring outside guest RAM"),
    ("ring-desc-misaligned", "descriptor table misaligned"),
    ("ring-avail-misaligned", "available ring misaligned"),
    ("ring-used-misaligned", "used ring misaligned"),
    ("queue-size-3", QSIZE),
    ("queue-size-0", QSIZE),
    ("queue-size-512", QSIZE),
    ("common-cfg-sweep", QSIZE),
    ("zero-len-desc-wild-addr", None),
    ("rings-at-ram-end", None),
    ("rings-aliased", None),
    ("bad-requests", None),
    ("notify-storm", None),
    ("read-only-fields", None),
    ("feature-selects", None),
    ("queue-selects", None),
    ("bar-moves", None),
    ("msix-garbage", None),
    ("config-sweep", None),
    ("config-window", None),
    ("mmio-insn-forms", None),
]
NET_ATTACKS = [
    ("tx-desc-outside-ram", OUTSIDE),
    ("tx-desc-wraps-2^64", OUTSIDE),
    ("tx-chain-loop-a-b-a", LOOPS),
    ("tx-head-beyond-queue", "head index beyond the queue"),
    ("tx-avail-idx-far-ahead", AHEAD),
    ("rx-ring-outside-ram", "available ring outside guest RAM"),
    ("tx-short-frame", None),
    ("tx-oversized-frame", None),
    ("notify-storm", None),
    ("msix-garbage", None),
]
# eth1 receives what eth0 sends (both on one bridge).
RX_ATTACKS = [
    ("rx-buffer-outside-ram", OUTSIDE),
    ("rx-buffer-readable", "receive buffer shorter than its header"),
    ("rx-buffer-shorter-than-header", "receive buffer shorter than its header"),
    ("rx-chain-loop", LOOPS),
    ("rx-header-split", None),
    ("rx-truncated", None),
    ("rx-merge-tiny-buffers", None),
    ("rx-merge-runs-out", None),
    ("rx-merge-readable-buffer", None),
]
DEVICES = {"vda": "virtio-blk vda", "eth0": "virtio-net eth0", "eth1": "virtio-net eth1"}


def disk_image():
    """guest/vqhostile's disk_byte(): the magic, then a per-sector pattern."""
    image = bytearray((i * 13 + (i >> 9) + 0x21) & 0xFF for i in range(DISK_BYTES))
    image[:len(DISK_MAGIC)] = DISK_MAGIC
    return bytes(image)


def test_hostile_virtio_driver_breaks_only_its_own_device(run_pgvisor, bench):
    image = disk_image()
    (bench.dir / "disk.img").write_bytes(image)
    hostile = bench.dir / "vqhostile.cfg"
    hostile.write_text(f'name = "{VM}"\n'
                       'kernel = "../../guests/vqhostile.elf"\n'
                       'memory = 4\n'
                       f'cmdline = "delay={DELAY}"\n'
                       'disk = [ "disk.img,raw,vda,rw" ]\n'
                       'vif = [ "mac=02:00:00:00:00:0a,bridge=hostile0",\n'
                       '        "mac=02:00:00:00:00:0b,bridge=hostile0" ]\n')
    neighbour = bench.dir / "neighbour.cfg"
    neighbour.write_text('name = "neighbour"\n'
                         'kernel = "../../guests/hello.elf"\n'
                         'memory = 8\n'
                         f'cmdline = "fill={PATTERN:#x} spin={SPIN}"\n')
    run = run_pgvisor([str(p.relative_to(ROOT)) for p in (hostile, neighbour)], timeout=90)

    lines = run.vm_lines(VM)
    attacks = [(dev, name, why) for dev, table in (("vda", BLK_ATTACKS), ("eth0", NET_ATTACKS),
                                                 ("eth1", RX_ATTACKS))
               for name, why in table]
    got = [l for l in lines if re.match(r"VQHOSTILE: (vda|eth0|eth1) ", l)]
    want = [f"VQHOSTILE: {dev} {name}: {'needs reset' if why else 'no reset'}, recovered"
            for dev, name, why in attacks]
    assert got == want, run.output

    # One line from pgvisor per broken device, saying why, in order, each
    # just before the guest's line for that attack.
    mine = [l for l in run.lines
            if l.startswith(f"pgvisor: vm {VM}: ") or l.startswith(f"[{VM}] VQHOSTILE: ")]
    needs_reset = [l for l in mine if l.endswith("; device needs reset")]
    assert needs_reset == [f"pgvisor: vm {VM}: {DEVICES[dev]}: {why}; device needs reset"
                           for dev, _, why in attacks if why], run.output
    for dev, name, why in attacks:
        at = mine.index(f"[{VM}] VQHOSTILE: {dev} {name}: "
                        f"{'needs reset' if why else 'no reset'}, recovered")
        before = mine[at - 1]
        if why:
            assert before == f"pgvisor: vm {VM}: {DEVICES[dev]}: {why}; device needs reset", \
                (name, before)
        else:
            assert not before.endswith("; device needs reset"), (name, before)

    first = " ".join(f"{b:02x}" for b in image[:16])
    assert f"VQHOSTILE: done {len(attacks)} attacks, 0 failed, final read ok: {first}" in lines, \
        run.output
    assert f"pgvisor:   vm {VM}: exited with status 1 (value 0), restarts 0" in run.lines

    # The neighbour computed and kept its memory as if alone.
    n = run.vm_lines("neighbour")
    assert f"hello: spin {SPIN} checksum {spin_checksum(SPIN):#010x}" in n, run.output
    assert any(re.match(rf"hello: fill {PATTERN:#010x} over \d+ KiB verified ok$", l)
               for l in n), run.output
    assert "hello: all checks passed" in n
    assert "pgvisor:   vm neighbour: exited with status 1 (value 0), restarts 0" in run.lines
    # Its pattern was in place before the first attack and checked after
    # the last.
    order = [l for l in run.lines
             if re.match(rf"\[neighbour\] hello: fill|\[{VM}\] VQHOSTILE: ", l)]
    assert "written over" in order[0] and "verified ok" in order[-1], order
    assert order[-2].startswith(f"[{VM}] VQHOSTILE: done"), order
    # pgvisor itself: one start, no fault, both VMs counted as successes.
    assert sum(1 for l in run.lines if l.startswith("pgvisor 0.1:")) == 1
    assert not [l for l in run.lines if re.search(r"exception|panic|fatal", l, re.I)], run.output
    assert "pgvisor: 2 of 2 VMs succeeded" in run.lines
    assert "pgvisor: result: success" in run.lines
    assert run.status == 0
    assert run.seconds < 60, run.seconds
