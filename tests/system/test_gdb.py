"""The gdb stub (gdb=VM, COM2): Debian's gdb in batch mode against
guest/gdbtest. One boot per CPU model for the basic checks: the VM waits
for gdb before its first instruction, gdb breaks on a function, reads a
global and the registers, single-steps, stops on a watchpoint, steps a
PUSHF (which must not push the step's TF) and detaches; the guest then finishes as if nobody had looked. Then: a stop
holds only the debugged VM (another VM on the same CPU runs to its end
meanwhile), and Ctrl-C stops a vCPU waiting in HLT."""
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from conftest import GUESTS, ROOT, make
from test_linux import linux_cfg

GDB_SECONDS = 240
RFLAGS_TF = 1 << 8
# hello's spin=N: long enough that gdbtest reaches its breakpoint first.
SPIN = 40000000
# How long gdb holds a stop while it waits for a console line.
HOLD_SECONDS = 150
# A Linux boot in Bochs, with room to spare.
LINUX_SECONDS = 300
# gdb connects before pgvisor has booted (Bochs waits for the client to
# start at all) and waits this long for the stub's first answer.
REMOTE_TIMEOUT = 120


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def symbol_address(elf, name):
    out = subprocess.run(["nm", str(elf)], stdout=subprocess.PIPE, text=True, check=True).stdout
    m = re.search(rf"^([0-9a-f]+) \w {name}$", out, re.M)
    assert m, f"{name} not in {elf}"
    return int(m.group(1), 16)


def connect(port, elf):
    """gdb's commands up to its connection; elf None: no symbol file."""
    return [
        "set pagination off",
        "set confirm off",
    ] + ([f"file {elf}"] if elf else []) + [
        "set architecture i386:x86-64",
        "set tcp connect-timeout 60",
        f"set remotetimeout {REMOTE_TIMEOUT}",
        f"target remote localhost:{port}",
    ]


def run_gdb(commands, log):
    args = ["gdb", "-batch", "-nx"]
    for c in commands:
        args += ["-ex", c]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=GDB_SECONDS, cwd=ROOT)
    log.write_text(p.stdout)
    return p.stdout


def gdb_session(port, elf, log):
    commands = connect(port, elf) + [
        "echo MARK held\\n",
        "print/x $pc",
        "info registers cs cr0 efer",
        "break gdbtest_tick",
        "continue",
        "echo MARK at-break\\n",
        "print gdbtest_counter",
        "print/x $pc",
        "print/x $eflags",
        "stepi",
        "echo MARK stepped\\n",
        "print/x $pc",
        "delete",
        "watch gdbtest_counter",
        "continue",
        "echo MARK watched\\n",
        "print gdbtest_counter",
        "delete",
        "break *gdbtest_pushf",
        "continue",
        "stepi",
        "echo MARK pushed\\n",
        "print/x $pc",
        "print/x *(unsigned int *)$sp",
        "delete",
        "detach",
        "echo MARK detached\\n",
    ]
    return run_gdb(commands, log)


def after(out, mark):
    """gdb's output after 'MARK mark' up to the next mark."""
    m = re.search(rf"^MARK {mark}\n(.*?)(?=^MARK |\Z)", out, re.M | re.S)
    assert m, f"gdb never got to {mark}:\n{out}"
    return m.group(1)


@pytest.mark.parametrize("cpu", [None, "corei7_icelake_u"], ids=["haswell", "icelake"])
def test_gdb_break_read_step_watch_detach(run_pgvisor, bench, cpu):
    elf = GUESTS / "gdbtest.elf"
    tick = symbol_address(elf, "gdbtest_tick")
    pushf = symbol_address(elf, "gdbtest_pushf")
    port = free_port()
    run = run_pgvisor(["configs/gdbtest.cfg"], cpu=cpu, timeout=300, cmdline="gdb=gdbtest",
                      run_options=["--com2", port],
                      alongside=lambda: gdb_session(port, elf, bench.dir / "gdb.txt"))
    out = run.alongside
    assert "pgvisor: vm gdbtest: waiting for gdb on COM2 before its first instruction" \
        in run.output, run.output
    # Held before its first instruction: at the Multiboot entry, nothing
    # printed yet.
    held = after(out, "held")
    assert re.search(r"cs\s+0x8\b", held), out
    assert re.search(r"cr0\s+0x[0-9a-f]*[13579bdf]\b", held), out  # protected mode (PE)
    # The breakpoint: the first call, the global still 0.
    m = re.search(r"Breakpoint 1 at (0x[0-9a-f]+)", out)
    assert m, out
    bp = int(m.group(1), 16)
    assert tick <= bp < tick + 16
    at_break = after(out, "at-break")
    assert "Breakpoint 1, " in out and "gdbtest_tick" in out
    assert re.search(r"^\$\d+ = 0$", at_break, re.M), out
    pcs = re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", at_break, re.M)
    assert int(pcs[0], 16) == bp, out
    # The single step moved the PC, and only a little.
    stepped = re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", after(out, "stepped"), re.M)
    assert stepped and bp < int(stepped[0], 16) <= bp + 15, out
    # The watchpoint: the first write, 0 -> 1.
    assert re.search(r"Hardware watchpoint 2: gdbtest_counter\s+Old value = 0\s+New value = 1",
                     out), out
    assert re.search(r"^\$\d+ = 1$", after(out, "watched"), re.M), out
    # The stepped PUSHF: one byte on, the flags on the stack as the guest
    # had them, without the TF the step set.
    pushed = re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", after(out, "pushed"), re.M)
    assert len(pushed) == 2 and int(pushed[0], 16) == pushf + 1, out
    assert int(pushed[1], 16) & RFLAGS_TF == 0, out
    assert "detached" in out.lower(), out
    # The guest then ran on to its end unharmed, and saw the same flags.
    guest = run.vm_lines("gdbtest")
    assert "gdbtest: counter 6" in guest, run.output
    assert "gdbtest: pushf tf 0" in guest, run.output
    assert "gdbtest: done" in guest
    assert run.status == 0, run.output


# Waits in gdb's "shell" (a stop held meanwhile) until LOG has a line
# matching the pattern, printing whether it was there at the start and
# whether it came.
WAIT_FOR_LINE = """
import re, sys, time
log, pattern, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
def seen():
    with open(log) as f:
        return re.search(pattern, f.read(), re.M) is not None
print("WAIT already" if seen() else "WAIT not-yet")
end = time.time() + seconds
while time.time() < end and not seen():
    time.sleep(0.5)
print("WAIT came" if seen() else "WAIT timed-out")
"""


def wait_for_line(log, pattern, seconds):
    script = ROOT / "build" / "wait_for_line.py"
    script.write_text(WAIT_FOR_LINE)
    return f"shell {sys.executable} {script} {log} '{pattern}' {seconds}"


def console_log(bench, seconds=60):
    """The console log of the run now starting (the newest in the test's
    folder), once scripts/run has opened it."""
    end = time.time() + seconds
    while True:
        logs = sorted(bench.dir.glob("*.console.log"), key=lambda p: p.stat().st_mtime)
        if logs or time.time() > end:
            return logs[-1]
        time.sleep(0.2)


def test_gdb_stop_holds_only_its_vm(run_pgvisor, bench):
    """gdbtest and a hello that spins for a while share the one CPU: while
    gdb holds gdbtest at a breakpoint, hello runs on to its end."""
    elf = GUESTS / "gdbtest.elf"
    cfg = bench.dir / "spinner.cfg"
    cfg.write_text(f'name = "spinner"\nkernel = "{GUESTS / "hello.elf"}"\nmemory = 4\n'
                   f'cmdline = "spin={SPIN}"\n')
    port = free_port()

    def session():
        commands = connect(port, elf) + [
            "break gdbtest_tick",
            "continue",
            "echo MARK at-break\\n",
            wait_for_line(console_log(bench), r"^pgvisor: vm spinner: exited", HOLD_SECONDS),
            "print gdbtest_counter",
            "delete",
            "detach",
        ]
        return run_gdb(commands, bench.dir / "gdb.txt")

    run = run_pgvisor(["configs/gdbtest.cfg", str(cfg)], timeout=300, cmdline="gdb=gdbtest",
                      run_options=["--com2", port], alongside=session)
    out = run.alongside
    at_break = after(out, "at-break")
    # Held at the break before the spinner ended, and it ended while held.
    assert "WAIT not-yet" in at_break and "WAIT came" in at_break, out
    assert re.search(r"^\$\d+ = 0$", at_break, re.M), out
    spinner = run.vm_lines("spinner")
    assert "hello: all checks passed" in spinner, run.output
    assert "gdbtest: counter 6" in run.vm_lines("gdbtest"), run.output
    assert run.status == 0, run.output


def test_gdb_interrupts_a_vcpu_in_hlt(run_pgvisor, bench):
    """gdbtest halt: it waits in HLT with interrupts on; gdb's Ctrl-C
    (SIGINT to gdb, which sends it on) stops it there, gdb reads where it
    is and kills it."""
    elf = GUESTS / "gdbtest.elf"
    cfg = bench.dir / "gdbtest.cfg"
    cfg.write_text(f'name = "gdbtest"\nkernel = "{elf}"\nmemory = 4\ncmdline = "halt"\n')
    port = free_port()

    def session():
        commands = connect(port, elf) + [
            "continue",
            "echo MARK interrupted\\n",
            "print/x $pc",
            "x/i $pc - 1",
            "kill",
        ]
        args = ["gdb", "-batch", "-nx"]
        for c in commands:
            args += ["-ex", c]
        gdb = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, cwd=ROOT)
        # Ctrl-C, as at gdb's terminal, once the guest has gone to HLT.
        end = time.time() + HOLD_SECONDS
        while time.time() < end and "gdbtest: halting" not in console_log(bench).read_text():
            time.sleep(0.5)
        time.sleep(2)
        gdb.send_signal(signal.SIGINT)
        out, _ = gdb.communicate(timeout=GDB_SECONDS)
        (bench.dir / "gdb.txt").write_text(out)
        return out

    run = run_pgvisor([str(cfg)], timeout=300, cmdline="gdb=gdbtest",
                      run_options=["--com2", port], alongside=session)
    out = run.alongside
    interrupted = after(out, "interrupted")
    assert "SIGINT" in out, out
    # Stopped just past its HLT.
    assert re.search(r":\s+hlt\s*$", interrupted, re.M), out
    assert "pgvisor: vm gdbtest: killed by gdb" in run.output, run.output


def test_gdb_threads_are_vcpus(run_pgvisor, bench):
    """smptest with two vCPUs spread over two CPUs: a breakpoint the AP
    hits stops both vCPUs (the other CPU's one too), gdb lists them as two
    threads and reads the registers of each; after detach smptest passes
    all its checks."""
    elf = GUESTS / "smptest.elf"
    ap_main = symbol_address(elf, "ap_main")
    cfg = bench.dir / "smp.cfg"
    cfg.write_text(f'name = "smp"\nkernel = "{elf}"\nmemory = 4\nvcpus = 2\n'
                   'cmdline = "cpus=2 iters=1000 kickhold=0"\n')
    port = free_port()

    def session():
        commands = connect(port, elf) + [
            "break ap_main",
            "continue",
            "echo MARK at-ap\\n",
            "info threads",
            "thread 1",
            "print/x $pc",
            "thread 2",
            "print/x $pc",
            "delete",
            "detach",
        ]
        return run_gdb(commands, bench.dir / "gdb.txt")

    run = run_pgvisor([str(cfg)], smp=2, timeout=300, cmdline="gdb=smp",
                      run_options=["--com2", port], alongside=session)
    out = run.alongside
    at_ap = after(out, "at-ap")
    assert re.search(r"Thread 2 hit Breakpoint 1, .*ap_main", out), out
    assert re.search(r"^\s*1\s+Thread 1\b", at_ap, re.M), out
    assert re.search(r"^\*\s*2\s+Thread 2\b.*ap_main", at_ap, re.M), out
    pcs = [int(pc, 16) for pc in re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", at_ap, re.M)]
    # The boot vCPU waits in its own code (held where it was), the AP at
    # the breakpoint.
    assert len(pcs) == 2 and pcs[0] != pcs[1] and pcs[0] >= 0x100000, out
    assert ap_main <= pcs[1] < ap_main + 16, out
    assert "E01" not in out, out
    lines = run.vm_lines("smp")
    assert "smptest: all checks passed" in lines, run.output
    assert run.status == 0, run.output


def test_gdb_breaks_linux_at_a_kallsyms_address(run_pgvisor, bench):
    """The Linux guest (pgvisor.test=kallsyms) prints where /proc/kallsyms
    puts do_sys_openat2 and then opens a file a second; gdb, interrupted
    then, puts a hardware breakpoint at that address (KASLR moves it every
    boot), continues into it and detaches; Linux runs on to its power-off."""
    make("guest-linux")
    cfg = linux_cfg(bench, "linux", test="kallsyms")
    more = bench.dir / "at-kallsyms.gdb"
    more.write_text("")
    port = free_port()

    def session():
        commands = connect(port, elf=None) + [
            "continue",
            f"source {more}",
        ]
        args = ["gdb", "-batch", "-nx"]
        for c in commands:
            args += ["-ex", c]
        gdb = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, cwd=ROOT)
        log = console_log(bench)
        end = time.time() + LINUX_SECONDS
        m = None
        while time.time() < end and not m:
            m = re.search(r"LINUX-GUEST: kallsyms do_sys_openat2 (0x[0-9a-f]+)",
                          log.read_text())
            time.sleep(0.5)
        if m:
            more.write_text(f"hbreak *{m.group(1)}\ncontinue\necho MARK hit\\n\n"
                            "print/x $pc\ndelete\ndetach\n")
        gdb.send_signal(signal.SIGINT)
        out, _ = gdb.communicate(timeout=GDB_SECONDS)
        (bench.dir / "gdb.txt").write_text(out)
        return out, m.group(1) if m else None

    # Once gdb let go, a line on the console ends the guest's opening.
    steps = [r"expect pgvisor: vm linux: gdb detached", r"send \r"]
    run = run_pgvisor([cfg], mem=256, timeout=LINUX_SECONDS, cmdline="gdb=linux",
                      run_options=["--com2", port], input=steps, alongside=session)
    out, address = run.alongside
    assert address and int(address, 16) >= 0xffffffff80000000, run.output
    assert "SIGINT" in out, out
    assert re.search(r"Hardware assisted breakpoint 1 at " + address, out), out
    hit = after(out, "hit")
    pcs = re.findall(r"^\$\d+ = (0x[0-9a-f]+)$", hit, re.M)
    assert pcs and int(pcs[0], 16) == int(address, 16), out
    lines = run.vm_lines("linux")
    assert any(re.match(r"LINUX-GUEST: kallsyms done after \d+ opens", l) for l in lines), \
        run.output
    assert any("reboot: Power down" in l for l in lines), run.output
    assert run.status == 0, run.output
