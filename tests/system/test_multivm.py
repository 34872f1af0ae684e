"""Several VMs on one machine: each does its own work and I/O, gets its own
exit counts, and their console lines never mix."""
import re

import pytest

from conftest import ROOT


def spin_checksum(iterations):
    """guest/hello's spin=N loop (xorshift32 plus the index), in Python."""
    x = 0x12345678
    for i in range(iterations):
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        x = (x + i) & 0xffffffff
    return x


def write_cfgs(bench, names, memory, spins, options=""):
    paths = []
    for name, spin in zip(names, spins):
        path = bench.dir / f"{name}.cfg"
        path.write_text(f'name = "{name}"\nkernel = "../../guests/hello.elf"\n'
                        f'memory = {memory}\ncmdline = "spin={spin}{options}"\n')
        paths.append(str(path.relative_to(ROOT)))
    return paths


@pytest.mark.parametrize("timer", ["preemption-timer", "lapic-timer"])
def test_four_vms_do_their_own_work(run_pgvisor, bench, timer):
    # Slices end by the VMX-preemption timer, or by the host LAPIC timer
    # as on CPUs without one (pgvisor's "no-preemption-timer").
    names = [f"w{k}" for k in range(1, 5)]
    spins = [150000 * k for k in range(1, 5)]
    cmdline = "no-preemption-timer" if timer == "lapic-timer" else ""
    # With the LAPIC timer the guests spin at IF = 1: Bochs 2.7 holds host
    # interrupts back from a guest entered at IF = 0 from a host at IF = 0
    # (it reevaluates its interrupt mask only when IF changes, and loads
    # the guest's RFLAGS before it is in VMX non-root operation), which the
    # SDM's external-interrupt exiting does not (25.2): on hardware IF plays
    # no part, in Bochs a spin at IF = 0 would run to its end.
    options = " spin-sti" if timer == "lapic-timer" else ""
    run = run_pgvisor(write_cfgs(bench, names, 4, spins, options), timeout=150, cmdline=cmdline)
    assert ("pgvisor: scheduling with the LAPIC timer (no-preemption-timer)" in run.lines) == \
        (timer == "lapic-timer")
    for name, spin in zip(names, spins):
        lines = run.vm_lines(name)
        assert f"hello: spin {spin} checksum {spin_checksum(spin):#010x}" in lines, run.output
        assert "hello: all checks passed" in lines
        # Every line a guest printed arrives whole: hello prefixes each one.
        assert all(l.startswith("hello: ") for l in lines), lines
        assert f"pgvisor:   vm {name}: exited with status 1 (value 0), restarts 0" in run.lines
    slice_exit = "preempt-timer" if timer == "preemption-timer" else "extint"
    exits = {}
    for line in run.lines:
        m = re.match(rf"pgvisor:   vm (w\d): exits total=(\d+) .*{slice_exit}=(\d+)", line)
        if m:
            exits[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    # The longer a VM computes, the more time slices it needs: each VM
    # has its own counters, and the scheduler really time-sliced them.
    assert sorted(exits) == names, run.output
    slices = [exits[n][1] for n in names]
    # w4 spins four times as long as w1: it was really preempted in its
    # spin (not just at exits that happened to come after a slice's end).
    assert slices == sorted(slices) and slices[-1] >= 3 * slices[0] > 0, slices
    switches = re.search(r"pgvisor: scheduler: (\d+) vCPU switches", run.output)
    assert switches and int(switches.group(1)) >= 4
    assert "pgvisor: 4 of 4 VMs succeeded" in run.lines
    assert run.status == 0


def test_sixteen_small_vms(run_pgvisor, bench):
    names = [f"vm{k:02d}" for k in range(16)]
    spins = [1000 + k for k in range(16)]
    run = run_pgvisor(write_cfgs(bench, names, 2, spins), timeout=240)
    for name, spin in zip(names, spins):
        assert f"hello: spin {spin} checksum {spin_checksum(spin):#010x}" in run.vm_lines(name), \
            run.output
    assert "pgvisor: 16 of 16 VMs succeeded" in run.lines
    assert run.status == 0


def test_memory_exhaustion_fails_only_the_vm_that_asked(run_pgvisor, bench):
    # 128 MiB machine: four 28 MiB VMs fit, the fifth does not.
    names = [f"big{k}" for k in range(5)]
    run = run_pgvisor(write_cfgs(bench, names, 28, [1000] * 5), timeout=120)
    refused = [l for l in run.lines if "not enough memory" in l]
    assert len(refused) == 1, run.output
    assert refused[0].startswith("pgvisor: vm big4: not enough memory: asked for 28 MiB, ")
    assert "pgvisor: vm big4: not started" in run.lines
    for name in names[:4]:
        assert "hello: all checks passed" in run.vm_lines(name)
    assert "pgvisor: 4 of 4 VMs succeeded" in run.lines
    assert run.status == 0
