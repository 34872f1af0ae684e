"""The gdb stub (gdb=VM, COM2): Debian's gdb in batch mode against
guest/gdbtest, one boot for every check: the VM waits for gdb before its
first instruction, gdb breaks on a function, reads a global and the
registers, single-steps, stops on a watchpoint and detaches; the guest then
finishes as if nobody had looked."""
import re
import socket
import subprocess

from conftest import GUESTS, ROOT

GDB_SECONDS = 240
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


def gdb_session(port, elf, log):
    commands = [
        "set pagination off",
        "set confirm off",
        f"file {elf}",
        "set architecture i386:x86-64",
        "set tcp connect-timeout 60",
        f"set remotetimeout {REMOTE_TIMEOUT}",
        f"target remote localhost:{port}",
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
        "detach",
        "echo MARK detached\\n",
    ]
    args = ["gdb", "-batch", "-nx"]
    for c in commands:
        args += ["-ex", c]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=GDB_SECONDS, cwd=ROOT)
    log.write_text(p.stdout)
    return p.stdout


def after(out, mark):
    """gdb's output after 'MARK mark' up to the next mark."""
    m = re.search(rf"^MARK {mark}\n(.*?)(?=^MARK |\Z)", out, re.M | re.S)
    assert m, f"gdb never got to {mark}:\n{out}"
    return m.group(1)


def test_gdb_break_read_step_watch_detach(run_pgvisor, bench):
    elf = GUESTS / "gdbtest.elf"
    tick = symbol_address(elf, "gdbtest_tick")
    port = free_port()
    run = run_pgvisor(["configs/gdbtest.cfg"], timeout=300, cmdline="gdb=gdbtest",
                      run_options=["--com2", port],
                      alongside=lambda: gdb_session(port, elf, bench.dir / "gdb.txt"))
    out = run.alongside
    assert "pgvisor: vm gdbtest: waiting for gdb on COM2" in run.output, run.output
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
    assert "detached" in out.lower(), out
    # The guest then ran on to its end unharmed.
    guest = run.vm_lines("gdbtest")
    assert "gdbtest: counter 6" in guest, run.output
    assert "gdbtest: done" in guest
    assert run.status == 0, run.output
