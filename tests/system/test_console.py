"""The host console: input goes to the focused VM, Ctrl-A three times moves
the focus (to the next VM, then to pgvisor's command line), and the
operator can list, pause, resume and destroy VMs."""
import re

from conftest import ROOT


def echo_cfg(bench, name):
    path = bench.dir / f"{name}.cfg"
    path.write_text(f'name = "{name}"\nkernel = "../../guests/hello.elf"\nmemory = 4\n'
                    'cmdline = "echo"\n')
    return str(path.relative_to(ROOT))


def test_input_goes_to_the_focused_vm_and_ctrl_a_switches(run_pgvisor, bench):
    cfgs = [echo_cfg(bench, "left"), echo_cfg(bench, "right")]
    steps = [
        # left runs first: both are ready once right says so.
        r"expect \[right\] hello: echo ready",
        r"send to left\r",
        r"expect \[left\] hello: echo to left",
        r"send \x01\x01\x01",
        r"expect input goes to vm right",
        r"send to right\r",
        r"expect \[right\] hello: echo to right",
        r"send \x01\x01\x01",
        r"expect input goes to the pgvisor command line",
        r"send list\r",
        r"expect pgvisor: right +1 +4 +1 running ",
        r"send pause left\r",
        r"expect vm left: paused",
        r"send destroy right\r",
        r"expect vm right: destroyed by the operator",
        r"send unpause left\r",
        r"expect vm left: running again",
        r"send \x01\x01\x01",
        r"expect input goes to vm left",
        r"send quit\r",
    ]
    run = run_pgvisor(cfgs, timeout=120, input=steps)
    assert not run.input_pending, run.output
    assert run.lines.count("pgvisor: console: input goes to vm left; Ctrl-A three times switches") \
        >= 2
    # Each VM saw only what was typed while it had the focus.
    assert "hello: echo to left" in run.vm_lines("left")
    assert "hello: echo to right" not in run.vm_lines("left")
    assert "hello: echo to right" in run.vm_lines("right")
    assert "hello: echo to left" not in run.vm_lines("right")
    assert "pgvisor> list" in run.lines
    assert any(re.match(r"pgvisor: left +0 +4 +1 running ", l) for l in run.lines), run.output
    assert "pgvisor:   vm right: destroyed by the operator, restarts 0" in run.lines
    assert "pgvisor:   vm left: exited with status 1 (value 0), restarts 0" in run.lines
    # The operator's destroy is not the guest's failure: the run passes.
    assert "pgvisor: 1 of 1 VMs succeeded, 1 destroyed by the operator" in run.lines
    assert run.status == 0


def hello_cfg(bench, name, cmdline, extra=""):
    path = bench.dir / f"{name}.cfg"
    path.write_text(f'name = "{name}"\nkernel = "../../guests/hello.elf"\nmemory = 4\n'
                    f'cmdline = "{cmdline}"\n{extra}')
    return str(path.relative_to(ROOT))


# 64 lines of 64 bytes (63 and a CR): 4 KiB pasted at once, each line
# different, so a lost, doubled or reordered byte shows. No backslash: hello
# echoes it escaped.
ALPHABET = [chr(c) for c in range(0x21, 0x7f) if chr(c) != "\\"]
PASTE_LINES = [f"{i:02d}:" + "".join(ALPHABET[(i * 7 + k) % len(ALPHABET)] for k in range(60))
               for i in range(64)]


def first_text_bytes(elf_path, count):
    """The first bytes of hello.elf's lowest loaded segment and where they
    load: what mem must show (code, which nothing writes)."""
    import struct
    data = elf_path.read_bytes()
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    loads = []
    for i in range(phnum):
        p_type, p_offset, _, p_paddr, p_filesz = struct.unpack_from("<IIIII", data,
                                                                     phoff + i * phentsize)
        if p_type == 1 and p_filesz >= count:
            loads.append((p_paddr, p_offset))
    paddr, offset = min(loads)
    return paddr, data[offset:offset + count]


def dump_bytes(lines, start, count):
    """The bytes of mem's hex dump lines from start on."""
    out = b""
    for line in lines:
        m = re.match(r"pgvisor: ([0-9a-f]{16}):((?: [0-9a-f]{2})+) +\|", line)
        if m and int(m.group(1), 16) == start + len(out):
            out += bytes(int(h, 16) for h in m.group(2).split())
    return out[:count]


def test_operator_commands_against_running_vms(run_pgvisor, bench):
    from conftest import GUESTS
    cfgs = [hello_cfg(bench, "left", "echo"),
            hello_cfg(bench, "pwr", "powerbutton"),
            hello_cfg(bench, "late", "echo", "autostart = 0\n")]
    text_gpa, text = first_text_bytes(GUESTS / "hello.elf", 64)
    steps = [
        r"expect \[left\] hello: echo ready",
        # 4 KiB pasted into the guest's COM1 at once: nothing may be lost.
        "send " + "".join(line + r"\r" for line in PASTE_LINES),
        r"expect \[left\] hello: echo 63:",
        r"send \x01\x01\x01",
        r"expect input goes to vm pwr",
        r"send \x01\x01\x01",
        r"expect input goes to the pgvisor command line",
        r"send help\r",
        r"expect pgvisor:   mem VM GPA LEN",
        # Two commands pasted at once, the second longer than 16 bytes.
        rf"send list\rmem left {text_gpa:#x} 64\r",
        r"expect pgvisor: late +2 +4 +1 running|pgvisor: Name +ID",
        rf"expect pgvisor: {text_gpa:016x}:",
        r"send frobnicate left\r",
        r"expect unknown command 'frobnicate'",
        r"send pause nosuchvm\r",
        r"expect no vm named 'nosuchvm'",
        r"send mem left 0x1000 zz\r",
        r"expect 'zz' is not a number",
        r"send mem left 0x3fffff0 32\r",
        r"expect outside its RAM",
        r"send mem left 0 5000\r",
        r"expect LEN must be 1 to 4096",
        r"send info left\r",
        r"expect pgvisor:   pending:",
        r"send exits left\r",
        r"expect vm left: exits total=",
        r"send trace left on\r",
        r"expect vm left: exit trace on",
        "sleep 1",
        r"send trace left show 4\r",
        r"expect vm left vCPU 0: the last 4 of",
        r"send trace left off\r",
        r"expect vm left: exit trace off",
        r"send create late.cfg\r",
        r"expect vm late: created by the operator",
        r"expect \[late\] hello: echo ready",
        r"send create nosuch.cfg\r",
        r"expect no boot file named 'nosuch.cfg'",
        r"send reboot late\r",
        r"expect vm late: rebooted by the operator",
        r"expect \[late\] hello: echo ready",
        r"send console late\r",
        r"expect input goes to vm late",
        r"send to late\r",
        r"expect \[late\] hello: echo to late",
        r"send \x01\x01\x01",
        r"expect input goes to the pgvisor command line",
        r"send shutdown pwr\r",
        r"expect \[pwr\] hello: power button pressed; powering off",
        r"expect vm pwr: powered off",
        r"send shutdown late 2\r",
        r"expect vm late: still running 2 s after the power button",
        # late's name is free again once it is destroyed: a new VM takes it
        # (while left runs, a second create of its name is refused).
        "sleep 1",
        r"send create late.cfg\r",
        r"expect vm late: created by the operator",
        r"expect \[late\] hello: echo ready",
        r"send create left.cfg\r",
        r"expect vm left: a VM with this name is running",
        r"send list\r",
        r"expect pgvisor: late +3 +4 +1 running",
        r"send destroy late\r",
        r"expect vm late: destroyed by the operator",
        r"send destroy left\r",
        r"expect vm left: destroyed by the operator",
    ]
    run = run_pgvisor(cfgs, timeout=300, input=steps)
    assert not run.input_pending, run.output
    lines = run.lines
    # The paste arrived whole: every line, in order, byte for byte.
    echoed = [l.removeprefix("hello: echo ") for l in run.vm_lines("left")
              if l.startswith("hello: echo ") and l[12:14].isdigit()]
    assert echoed == PASTE_LINES, run.output
    assert not any("dropping keys" in l for l in lines)
    # late was left for the operator at boot.
    assert "pgvisor: vm late: not started at boot (autostart = 0); the console's create " \
        f"{cfgs[2]} starts it" in lines
    # help lists every command.
    for usage in ["list", "create FILE", "console VM", "pause VM", "unpause VM", "destroy VM",
                  "reboot VM", "shutdown VM [SECONDS]", "info VM", "exits VM",
                  "trace VM on|off|show [N]", "mem VM GPA LEN", "help [CMD]"]:
        assert any(l.startswith(f"pgvisor:   {usage} ") for l in lines), usage
    # list: xl's columns, a row a VM.
    header = lines.index(next(l for l in lines if re.match(r"pgvisor: Name +ID +Mem", l)))
    assert re.match(r"pgvisor: left +0 +4 +1 running +\d+\.\d +\d+$", lines[header + 1]), \
        lines[header + 1]
    assert re.match(r"pgvisor: pwr +1 +4 +1 running ", lines[header + 2])
    # mem shows the guest's code as the ELF file holds it.
    assert dump_bytes(lines, text_gpa, 64) == text
    # info: a 32-bit protected-mode guest (CR0.PE, EFER.LMA clear) in its
    # echo loop.
    info = next(i for i, l in enumerate(lines) if l.startswith("pgvisor: vm left vCPU 0 (CPU 0):"))
    m = re.search(r"CR0 (0x[0-9a-f]+) .* EFER (0x[0-9a-f]+|0)", lines[info + 5])
    assert m and int(m.group(1), 16) & 1 and not int(m.group(2), 16) & 0x400, lines[info + 5]
    assert re.search(r"RIP 0x[0-9a-f]+ RFLAGS 0x[0-9a-f]+", lines[info])
    # hello's flat segments (its GDT: code 0x08, data 0x10, base 0).
    assert "CS 0008:0 SS 0010:0 DS 0010:0" in lines[info + 6], lines[info + 6]
    assert lines[info + 7].startswith("pgvisor:   pending: injection none, "), lines[info + 7]
    # The trace: the echo loop polls the UART's LSR (port 0x3fd, IN).
    trace = [l for l in lines if l.startswith("pgvisor:   tsc ")]
    assert len(trace) == 4, trace
    assert any(re.search(r" io \(30\) rip 0x[0-9a-f]+ qualification 0x3fd0008$", l)
               for l in trace), trace
    # Every bad line changed nothing, and said so in one line.
    assert "pgvisor: unknown command 'frobnicate' (try help)" in lines
    assert "pgvisor: no vm named 'nosuchvm'" in lines
    assert "pgvisor: vm left: 0x3fffff0..0x400000f is outside its RAM (4 MiB)" in lines
    # create, reboot, console.
    assert "pgvisor: vm late: restarting (1 of 3)" in lines
    assert "hello: echo to late" in run.vm_lines("late")
    assert "hello: echo to late" not in run.vm_lines("left")
    # shutdown: pwr powered itself off; late ignored the button and was
    # destroyed after its 2 s.
    assert "hello: waiting for the power button" in run.vm_lines("pwr")
    assert "pgvisor:   vm pwr: powered off, restarts 0" in lines
    assert "pgvisor:   vm late: destroyed by the operator, restarts 1" in lines
    assert "pgvisor:   vm left: destroyed by the operator, restarts 0" in lines
    # The second late: a VM of its own (id 3), booted afresh, destroyed
    # by its name; left's name stayed taken.
    assert len([l for l in lines if l.startswith("pgvisor: vm late: created by the operator")]) \
        == 2, run.output
    assert run.vm_lines("late").count("hello: all checks passed") == 3
    assert "pgvisor: vm left: a VM with this name is running or kept for inspection; " \
        "not started" in lines
    assert "pgvisor:   vm late: destroyed by the operator, restarts 0" in lines
    assert "pgvisor: 1 of 1 VMs succeeded, 3 destroyed by the operator" in lines
    assert run.status == 0


def test_ps2_keyboard_types_into_the_console(run_pgvisor, bench):
    # QEMU's i8042 (QEMU has no VT-x here: the keyboard self-test runs
    # before VMX). Shift, Ctrl-A (shown as ^A) and Enter as a PC types them.
    steps = ["expect selftest: keyboard: type a line",
             "key shift-h i spc ctrl-a shift-1 minus ret"]
    # A VM config is on the medium, but the self-test runs instead of VMs.
    run = run_pgvisor([echo_cfg(bench, "unused")], emu="qemu", cmdline="selftest=keyboard",
                      timeout=60, input=steps)
    assert not run.input_pending, run.output
    assert "pgvisor: console input: COM1 and the PS/2 keyboard" in run.lines, run.output
    assert "pgvisor: selftest: keyboard: typed 'Hi ^A!-': passed" in run.lines, run.output
    assert run.status == 0
