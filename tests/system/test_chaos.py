"""Chaos beside a checker (issue 20): guest/chaos VMs do random sensitive and
privileged operations at CPL 0 and 3 in long mode, in phases of 32-bit
protected mode and of real mode, and fill the rings of a virtio-blk disk
with garbage (2 vCPUs each, pgvisor on 2 host CPUs), next to guest/checker,
which writes known patterns over its RAM and prints their checksums. The
checker must print exactly what it prints alone, end with its RAM hashed to
the same value (pgvisor's memhash switch), pgvisor must not fault and its
stack canaries must hold, and every chaos VM must reach its operation count
in all three modes and end by its own doing, with the digest and per-mode
counts its seed gives."""
import re

from conftest import ROOT

CHECKER_ROUNDS = 3
# (VM name, seed, operations): seed 1 twice, so its digest is compared.
CHAOS_VMS = [("chaos-a", 1, 250000), ("chaos-b", 1, 250000), ("chaos-c", 2, 250000),
             ("chaos-d", 3, 250000)]
# One more ends the way a guest may end itself: a triple fault after its
# operations; on_crash destroys it.
FINALE_VM = ("chaos-e", 4, 20000)
MIN_TOTAL_OPS = 10**6
DISK_BYTES = 64 * 1024
VIRTIO_BLK = "1042"
TIMEOUT_S = 900
HYPERVISOR_FAULT = re.compile(r"PANIC|pgvisor: fatal|CPU exception|spurious host interrupt|"
                              r"result: fatal|stack canary broken")
PATTERN_INDEX_MIX = 0x9e3779b1
PATTERN_ROUND_MIX = 0x85ebca6b


def checker_sum(words, r):
    """guest/checker's checksum of round r over words words, in Python."""
    s = 0
    for k in range(words):
        w = ((k * PATTERN_INDEX_MIX) ^ (r * PATTERN_ROUND_MIX)) & 0xffffffff
        s = (((s << 5) | (s >> 27)) & 0xffffffff) ^ w
    return s


def write_cfg(bench, name, kernel, memory, cmdline, extra=""):
    path = bench.dir / f"{name}.cfg"
    path.write_text(f'name = "{name}"\nkernel = "../../guests/{kernel}.elf"\n'
                    f'memory = {memory}\ncmdline = "{cmdline}"\n{extra}')
    return str(path.relative_to(ROOT))


def memhashes(run, name):
    found = dict(re.findall(rf"^pgvisor: vm {name}: memory hash ([0-9a-f]{{16}}) at (\w+) ",
                            run.output, re.M))
    return {when: h for h, when in found.items()}


def assert_hypervisor_sound(run):
    bad = [line for line in run.lines if HYPERVISOR_FAULT.search(line)]
    assert not bad, run.output
    m = re.search(r"^pgvisor: stack canaries: (\d+) of (\d+) intact$", run.output, re.M)
    assert m and m.group(1) == m.group(2) and int(m.group(2)) >= 6, run.output


def test_chaos_beside_a_checker(run_pgvisor, bench):
    assert sum(ops for _, _, ops in CHAOS_VMS) >= MIN_TOTAL_OPS
    checker = write_cfg(bench, "checker", "checker", 4, f"rounds={CHECKER_ROUNDS}")
    # Each chaos VM has a virtio-blk disk of its own to fill with garbage.
    chaos = []
    for name, seed, ops in CHAOS_VMS:
        (bench.dir / f"{name}.img").write_bytes(bytes(DISK_BYTES))
        chaos.append(write_cfg(bench, name, "chaos", 8, f"seed={seed} ops={ops}",
                               f'vcpus = 2\ndisk = [ "{name}.img,raw,vda,rw" ]\n'))
    name, seed, ops = FINALE_VM
    chaos.append(write_cfg(bench, name, "chaos", 8, f"seed={seed} ops={ops} finale=triple",
                           'vcpus = 2\non_crash = "destroy"\n'))

    alone = run_pgvisor([checker], smp=2, cmdline="memhash", timeout=120)
    assert_hypervisor_sound(alone)
    beside = run_pgvisor([checker] + chaos, smp=2, cmdline="memhash", timeout=TIMEOUT_S)
    print(f"alone {alone.seconds:.0f} s, beside {beside.seconds:.0f} s")
    assert beside.end == "poweroff", beside.output
    assert_hypervisor_sound(beside)

    # The checker: its known checksums, the same lines and the same RAM.
    lines = alone.vm_lines("checker")
    assert lines[-1] == "checker: done", alone.output
    for r in range(1, CHECKER_ROUNDS + 1):
        m = re.search(rf"^checker: round {r} checksum 0x([0-9a-f]{{8}}) over (\d+) words$",
                      "\n".join(lines), re.M)
        assert m, lines
        assert int(m.group(1), 16) == checker_sum(int(m.group(2)), r), m.group(0)
    assert beside.vm_lines("checker") == lines, beside.output
    hashes = memhashes(alone, "checker")
    assert set(hashes) == {"load", "end"}, alone.output
    assert memhashes(beside, "checker") == hashes, beside.output
    assert "pgvisor:   vm checker: exited with status 1 (value 0), restarts 0" in beside.lines

    # Every chaos VM ran all its operations, in all three modes, and
    # powered itself off; the same seed, the same digest and counts.
    digests = {}
    for name, seed, ops in CHAOS_VMS:
        out = beside.vm_lines(name)
        assert f"chaos: {(ops // 100000) * 100000} ops" in out or ops < 100000, out
        m = re.search(rf"^chaos: seed {seed} ops {ops} digest ([0-9a-f]{{16}}) "
                      r"\(long (\d+), protected (\d+), real (\d+)\)$", "\n".join(out), re.M)
        assert m, beside.output
        long_ops, protected, real = (int(g) for g in m.group(2, 3, 4))
        assert long_ops + protected + real == ops, m.group(0)
        assert protected > 0 and real > 0, m.group(0)
        digests.setdefault(seed, set()).add(m.groups())
        phases = re.search(r"^chaos: protected mode: (\d+) phases, (\d+) events; "
                           r"real mode: (\d+) phases, (\d+) events$", "\n".join(out), re.M)
        assert phases and int(phases.group(1)) > 0 and int(phases.group(3)) > 0, out
        # The garbage reached the device, which broke, and nothing else.
        assert any(line.startswith(f"chaos: virtio device {VIRTIO_BLK} at slot ")
                   for line in out), out
        broken = [line for line in beside.lines
                  if line.startswith(f"pgvisor: vm {name}: virtio-blk vda: ")
                  and line.endswith("; device needs reset")]
        assert broken, beside.output
        print(f"{name}: {m.group(0)}; {phases.group(0)}; device needs reset x{len(broken)}")
        assert f"pgvisor:   vm {name}: exited with status 1 (value 0), restarts 0" \
            in beside.lines, beside.output
        # A vCPU halted in its NMI handler stays halted, though NMIs keep
        # coming (pgvisor once woke it at every one: an HLT exit storm).
        hlt = re.search(rf"^pgvisor:   vm {name}: exits total=\d+ .*\bhlt=(\d+)", beside.output,
                        re.M)
        assert not hlt or int(hlt.group(1)) < ops // 10, hlt.group(0)
        events = [line for line in out if line.startswith("chaos: events ")]
        print(f"{name}: {events}")
    name, seed, ops = FINALE_VM
    assert f"chaos: seed {seed} ops {ops} digest" in "\n".join(beside.vm_lines(name))
    assert "chaos: no virtio device" in beside.vm_lines(name), beside.output
    assert beside.vm_lines(name)[-1] == "chaos: finale: triple fault", beside.output
    assert re.search(rf"^pgvisor:   vm {name}: crashed: triple fault at rip 0x[0-9a-f]+, "
                     r"restarts 0$", beside.output, re.M), beside.output
    assert all(len(d) == 1 for d in digests.values()), digests
    assert len({d.pop()[0] for d in digests.values()}) == len(digests), "seeds gave one digest"
