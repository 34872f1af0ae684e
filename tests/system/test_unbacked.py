"""Equivalence for memory with nothing behind it and for the TSC MSRs
(issue 16, points 12-14): the memtest guest under pgvisor sees what a bare
machine shows it."""
import re

import pytest

from conftest import ROOT

RAM_TOP = 0x400000  # memtest.cfg: 4 MiB


def strict_cfg(bench):
    """memtest again, with the strict setting: an unbacked access ends it."""
    path = bench.dir / "strict.cfg"
    path.write_text('name = "strict"\nkernel = "../../guests/memtest.elf"\nmemory = 4\n'
                    'on_unbacked = "crash"\n')
    return str(path.relative_to(ROOT))


# Tiger Lake offers RDPID (CPUID.7.0:ECX[22]); Haswell does not.
@pytest.mark.parametrize("cpu", ["corei7_haswell_4770", "tigerlake"])
def test_unbacked_memory_reads_ones_unless_strict(run_pgvisor, bench, cpu):
    run = run_pgvisor(["configs/memtest.cfg", strict_cfg(bench)], cpu=cpu, timeout=150)
    mem = run.vm_lines("memtest")
    assert not [l for l in mem if l.startswith("memtest: FAIL")], run.output
    assert "memtest: all checks passed" in mem, run.output
    # Reads of all sizes answer all-ones; writes are dropped.
    for what, addr in (("above RAM", RAM_TOP), ("in the PCI hole", 0xc0000000)):
        assert (f"memtest: ok read {what} at {addr:#010x}: 0xffffffff, 16-bit 0xffff, "
                "8-bit into eax 0x123456ff") in mem
    assert f"memtest: ok write above RAM at {RAM_TOP:#010x} dropped" in mem
    # Every VM has an HPET there: its capabilities' low half.
    assert "memtest: ok read hpet at 0xfed00000: 0x8086a201 (present)" in mem
    assert ("memtest: ok write firmware at 0xff000000 dropped: 0xffffffff before, "
            "0xffffffff after") in mem
    # TSC_AUX and the TSC (Bochs' models offer RDTSCP); TSC_ADJUST moves
    # with each TSC write.
    assert "memtest: ok wrmsr tsc_aux 0x5a5 (vector 0)" in mem
    assert "memtest: ok rdmsr tsc_aux 0x5a5 (vector 0)" in mem
    assert "memtest: ok rdtscp ecx 0x5a5" in mem
    assert ("memtest: ok rdpid 0x5a5" if cpu == "tigerlake" else
            "memtest: skip rdpid: not offered") in mem
    assert "memtest: ok wrmsr tsc_aux with bit 32 set: vector 13, tsc_aux 0x5a5" in mem
    assert any(re.match(r"memtest: ok wrmsr tsc 0x10000000000 \(vector 0\)", l) for l in mem)
    assert any(re.match(r"memtest: ok wrmsr tsc 0xf4240 \(vector 0\)", l) for l in mem)
    assert len([l for l in mem if l.startswith("memtest: ok tsc_adjust moved by 0x")]) == 2, mem
    # IA32_XSS where XSAVES is (Tiger Lake), held at 0: no supervisor state
    # component is offered.
    if cpu == "tigerlake":
        for line in ("memtest: ok rdmsr xss 0x0 (vector 0), components 0x0",
                     "memtest: ok wrmsr xss 0 (vector 0)",
                     "memtest: ok wrmsr xss of a component not offered: vector 13, xss 0x0"):
            assert line in mem, run.output
    else:
        assert "memtest: ok rdmsr xss without xsaves: vector 13" in mem, run.output
    # Reported once when it happens, counted in the summary: 9 reads and
    # 2 writes (above RAM 4 + 1, the hole 3, the firmware 2 + 1).
    first = [l for l in run.lines if l.startswith("pgvisor: vm memtest: unbacked")]
    assert first == [f"pgvisor: vm memtest: unbacked read of guest-physical {RAM_TOP:#x} "
                     "(outside its RAM of 4096 KiB): reads all-ones, writes dropped; "
                     "reported once"], run.output
    assert (f"pgvisor:   vm memtest: unbacked accesses 11, the first a read of guest-physical "
            f"{RAM_TOP:#x}") in run.lines
    assert "pgvisor:   vm memtest: exited with status 1 (value 0), restarts 0" in run.lines

    # on_unbacked = "crash": the TSC checks pass, the first read outside
    # its RAM stops it, as before.
    strict = run.vm_lines("strict")
    assert "memtest: ok rdtscp ecx 0x5a5" in strict, run.output
    assert not any(l.startswith("memtest: ok read") for l in strict)
    crash = [l for l in run.lines if l.startswith("pgvisor: vm strict: crashed: EPT violation")]
    assert len(crash) == 1, run.output
    assert f"read of guest-physical {RAM_TOP:#x} (outside its RAM of 4096 KiB)" in crash[0]
    assert not any(l.startswith("pgvisor:   vm strict: unbacked") for l in run.lines)
