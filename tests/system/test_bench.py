"""guest/bench (make bench): exit round trips under pgvisor are sane and
deterministic for a short iteration count, the CPU-bound workloads give
the same results bare and virtualized, and scripts/bench's figures and
chart come from its logs."""
import json

import pytest

from conftest import ROOT
from test_scripts import load_script

BENCH = load_script(ROOT / "scripts" / "bench")
ITERS = 50
KINDS = ("cpuid", "vmcall", "out-uart-thr", "out-uart-scratch", "in-pm-timer", "rdmsr",
         "wrmsr", "mmio-lapic-read", "mmio-lapic-write", "hlt-timer", "ipi")
# Basic exit reasons each kind must cause once per round trip.
REASON = {"cpuid": "CPUID", "vmcall": "VMCALL", "out-uart-thr": "I/O",
          "out-uart-scratch": "I/O", "in-pm-timer": "I/O", "rdmsr": "RDMSR",
          "wrmsr": "WRMSR", "mmio-lapic-read": "EPT violation",
          "mmio-lapic-write": "EPT violation", "hlt-timer": "HLT"}
# A short walk: the workloads' size is fixed otherwise.
CPU_CMDLINE = "cpu hops=20000"


def bench_cfg(bench, cmdline, vcpus):
    path = bench.dir / "bench.cfg"
    path.write_text('name = "bench"\nkernel = "../../guests/bench.elf"\nmemory = 32\n'
                    f'vcpus = {vcpus}\ncmdline = "{cmdline}"\n')
    return str(path.relative_to(ROOT))


def exit_figures(run):
    assert run.status == 0, run.output
    return BENCH.exit_figures(BENCH.guest_records(run.output))


def test_exit_round_trips_are_sane_and_deterministic(run_pgvisor, bench):
    cfg = bench_cfg(bench, f"exits iters={ITERS}", vcpus=2)
    first = exit_figures(run_pgvisor([cfg], timeout=120))
    second = exit_figures(run_pgvisor([cfg], timeout=120))
    # Bochs with a fixed ips is deterministic: the same tick counts.
    assert first == second
    assert tuple(first) == KINDS
    for kind, e in first.items():
        assert e["iters"] == ITERS, kind
        assert e["round_trip"] > 0, kind
        assert 0 < e["hypervisor"] < e["round_trip"], kind
        if kind in REASON:
            assert e["reasons"][REASON[kind]]["exits"] == ITERS, (kind, e)
    # Every IPI round trip is two IPIs, each an exit (the ICR write) and a
    # HLT to wait in.
    assert first["ipi"]["reasons"]["EPT violation"]["exits"] >= 2 * ITERS
    assert first["ipi"]["reasons"]["HLT"]["exits"] >= ITERS


def test_cpu_workloads_match_bare(run_pgvisor, boot_bare, bench):
    bare = boot_bare("bench", "mb2", "bochs", cmdline=CPU_CMDLINE, expect_line="^bench: end$",
                     timeout=120)
    assert bare.status == 0, bare.output
    virt = run_pgvisor([bench_cfg(bench, CPU_CMDLINE, vcpus=1)], timeout=120)
    assert virt.status == 0, virt.output
    s = BENCH.slowdown(BENCH.guest_records(bare.output), BENCH.guest_records(virt.output))
    assert set(s) == {"sieve", "compress", "walk", "all"}
    for name, w in s.items():
        assert w["same_result"], name
        # The scheduler's timer exits cost something, but little.
        assert 1 <= w["ratio"] < 1.05, (name, w)


def test_report_from_logs(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    exits = ['[bench] bench: begin',
             '[bench] {"bench":"profile-read","iters":1,"ticks":0,"exits":1,"hv_ticks":100,'
             '"reasons":{"18":[1,1,100]}}',
             '[bench] {"bench":"cpuid","iters":10,"ticks":3000,"exits":11,"hv_ticks":2100,'
             '"reasons":{"10":[10,10,2000],"18":[1,1,100]}}',
             '[bench] {"bench":"vmcall","iters":10,"ticks":2000,"exits":11,"hv_ticks":1600,'
             '"reasons":{"18":[11,11,1600]}}',
             '[bench] {"bench":"out-uart-thr","iters":10,"ticks":2500,"exits":11,'
             '"hv_ticks":1500,"reasons":{"30":[10,10,1400],"18":[1,1,100]}}',
             '[bench] {"bench":"ipi","skipped":"no second vCPU"}',
             '[bench] bench: end',
             'pgvisor: vm bench: 32 MiB at host 0x400000, kernel k (1 bytes), '
             'hypervisor overhead 76 KiB, on CPU 0']
    cpu = ['pgvisor: memory: the hypervisor uses 700 KiB before its first VM (image 600 KiB, '
           'page tables and per-CPU data 100 KiB)',
           'pgvisor: vm bench: 32 MiB at host 0x400000, kernel k (1 bytes), '
           'hypervisor overhead 68 KiB, on CPU 0',
           '[bench] bench: begin',
           '[bench] {"workload":"sieve","ticks":1010,"result":7,"exits":2,"hv_ticks":5,'
           '"reasons":{}}',
           '[bench] bench: end']
    bare = ['bench: begin', '{"workload":"sieve","ticks":1000,"result":7}', 'bench: end']
    fleet = ['pgvisor: vm g000: 4 MiB at host 0x400000, kernel k (1 bytes), '
             'hypervisor overhead 68 KiB, on CPU 0', 'pgvisor: 1 of 1 VMs succeeded']
    for name, lines in (("exits", exits), ("cpu", cpu), ("cpu-bare", bare), ("fleet", fleet)):
        (logs / f"{name}.log").write_text("\n".join(lines) + "\n")
    BENCH.report(tmp_path)
    res = json.loads((tmp_path / "results.json").read_text())
    # Less one profile read: (2100 - 100) / 10 and 1 exit per round trip.
    assert res["exits"]["cpuid"]["hypervisor"] == 200
    assert res["exits"]["cpuid"]["exits_per_round_trip"] == 1
    assert res["exits"]["cpuid"]["reasons"] == {
        "CPUID": {"exits": 10, "timed": 10, "ticks_per_exit": 200}}
    assert res["exits"]["vmcall"]["hypervisor"] == 150
    assert res["exits"]["ipi"] == {"skipped": "no second vCPU"}
    assert res["slowdown"]["sieve"]["ratio"] == pytest.approx(1.01)
    assert res["footprint"]["vm_overhead_kib"] == {"1 vCPU": 68, "2 vCPUs": 76}
    assert res["footprint"]["fleet"]["started"] == 1
    assert res["targets"]["vmcall hypervisor ticks <= 150"]["met"]
    assert not res["targets"]["cpuid hypervisor ticks <= 150"]["met"]
    svg = (tmp_path / "exit-cost.svg").read_text()
    assert svg.startswith("<svg") and "CPUID (leaf 0)" in svg and "skipped" not in svg
    assert "| CPUID (leaf 0) | 300 | 200 | 1 |" in (tmp_path / "table.md").read_text()
