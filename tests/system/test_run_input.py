"""scripts/run --input: steps typed on the machine's COM1 (a
pseudo-terminal the emulator opens), checked end to end with the hello
guest's echo option booted bare under GRUB."""
import importlib.machinery
import importlib.util
import subprocess

import pytest

from conftest import RUN

ECHO_READY = r'^hello: echo ready \("quit" ends\)$'


def load_run_script():
    loader = importlib.machinery.SourceFileLoader("run", str(RUN))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("run", loader))
    loader.exec_module(module)
    return module


def hello_lines(run):
    return run.lines_with_prefix("hello: ")


@pytest.mark.parametrize("emu", ["bochs", "qemu"])
def test_bare_hello_echoes_lines_until_quit(boot_bare, emu):
    run = boot_bare("hello", "mb2", emu, cmdline="echo", expect_line="^hello: echo hi there$",
                    input=[f"expect {ECHO_READY}", r"send hi there\n",
                           "expect ^hello: echo hi there$", r"send quit\n"])
    assert run.status == 0, run.output
    assert run.input_pending is None
    # quit ends the loop and the program powers off normally.
    assert run.end == "poweroff"
    assert hello_lines(run)[-3:] == ["hello: all checks passed", 'hello: echo ready ("quit" ends)',
                                     "hello: echo hi there"]


@pytest.mark.parametrize("emu", ["bochs", "qemu"])
def test_send_is_byte_exact(boot_bare, emu):
    # Ctrl-A three times (pgvisor's focus switch), Ctrl-C, XON/XOFF, DEL,
    # a backslash and a byte above 0x7f must reach the guest unchanged:
    # hello prints them back as C escapes. A CR ends a line as LF does.
    sent = r"a\x01\x01\x01\x03\x11\x13\x7f\\\xffz"
    run = boot_bare("hello", "mb2", emu, cmdline="echo", expect_line="^hello: echo a",
                    input=[f"expect {ECHO_READY}", rf"send {sent}\r",
                           r"expect ^hello: echo a", r"send quit\r"])
    assert run.status == 0, run.output
    assert run.input_pending is None
    assert run.end == "poweroff"
    assert hello_lines(run)[-1] == r"hello: echo a\x01\x01\x01\x03\x11\x13\x7f\\\xffz"


def test_unmatched_expect_is_reported_and_nothing_after_it_is_sent(boot_bare):
    # Without echo, hello ignores COM1 input and powers off after its checks.
    run = boot_bare("hello", "mb2", "qemu", expect_line="^hello: all checks passed$",
                    input=["expect ^hello: all checks passed$", "expect ^never printed$",
                           r"send quit\n"])
    assert run.status == 0, run.output
    assert run.end == "poweroff"
    assert run.input_pending == "step 2 (line 2: expect ^never printed$)"


def test_bad_input_file_is_a_usage_error(tmp_path):
    iso = tmp_path / "x.iso"
    iso.write_bytes(b"")
    steps = tmp_path / "steps.txt"
    for text, message in [("expect ok\nsend \\q\n", "steps.txt:2: unknown escape '\\q'"),
                          ("# comment\n\ntype hello\n", "steps.txt:3: expected expect, send, sleep or key"),
                          ("expect (\n", "steps.txt:1: "),
                          ("sleep -1\n", "steps.txt:1: seconds must be 0 or more")]:
        steps.write_text(text)
        p = subprocess.run([str(RUN), "--input", str(steps), str(iso)], capture_output=True,
                           text=True)
        assert p.returncode == 64, (text, p.stderr)
        assert message in p.stderr, (text, p.stderr)


def test_send_escapes_and_expect_order():
    run = load_run_script()
    assert run.unescape(r"hi\n\r\t\\\x01\x7F é") == b"hi\n\r\t\\\x01\x7f \xc3\xa9"

    class FakeConsole:
        lines = ["boot", "pgvisor> one", "two"]
        partial = "pgvisor> "

        def unfinished_line(self):
            return self.partial

    console = FakeConsole()
    script = run.InputScript([])
    # Each expect looks past the line the previous one matched; the
    # unfinished last line (a prompt) can match too, and is then used up.
    assert script.matches(run.re.compile("pgvisor> "), console)
    assert script.first_line == 2
    assert script.matches(run.re.compile("pgvisor> "), console)
    assert script.first_line == 4
    assert not script.matches(run.re.compile("pgvisor> "), console)
    console.lines.append("pgvisor> help")
    console.partial = ""
    assert not script.matches(run.re.compile("pgvisor> "), console)
    console.lines.append("pgvisor> list")
    assert script.matches(run.re.compile("list"), console)


def test_keyboard_mode_ends_lines_with_cr_lf(tmp_path):
    # With a terminal on stdin and stdout, scripts/run puts it in raw mode
    # to forward keys: its lines must then end CR LF, or they staircase.
    # The "emulator" here writes two lines to the console and exits.
    import os
    import pty
    import select
    import textwrap
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        import importlib.machinery, importlib.util, sys
        loader = importlib.machinery.SourceFileLoader("run", {str(RUN)!r})
        run = importlib.util.module_from_spec(importlib.util.spec_from_loader("run", loader))
        loader.exec_module(run)
        console = run.Console(None)
        cmd = ["sh", "-c", "printf 'one\\\\ntwo\\\\n' > " + console.path + "; sleep 1"]
        run.run_machine(cmd, console, None, 10, use_pty=False)
        sys.stdout.write("after\\n")
    """))
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("python3", ["python3", str(driver)])
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 20)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    assert b"one\r\ntwo\r\n" in out, out
    # The terminal is cooked again afterwards: its own ONLCR adds the CR.
    assert b"after\r\n" in out and b"\r\r\n" not in out, out
