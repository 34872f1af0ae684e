"""virtio-console (config virtio_console = 1) under the unmodified Debian
kernel: its virtio_console module binds the PCI function (0x1af4:0x1043),
the guest writes a line to /dev/hvc0, which pgvisor prints on the host
console as "[vm] text" like COM1's lines; then a line typed on the host's
keyboard goes to hvc0 (the driver is live and has posted receive buffers,
so the keys go there rather than to COM1) and the guest reads it back."""
import re

import pytest

from conftest import ROOT, make

VM = "hvc"
TYPED = "hvc-in-42"


@pytest.fixture(scope="module", autouse=True)
def linux_guest():
    make("guest-linux")


def hvc_cfg(bench, name, options):
    path = bench.dir / f"{name}.cfg"
    path.write_text(f'name = "{name}"\n'
                    f'kernel = "../../guests/linux/vmlinuz"\n'
                    f'ramdisk = "../../guests/linux/initrd.img"\n'
                    f'memory = 128\n'
                    f'virtio_console = 1\n'
                    f'cmdline = "console=ttyS0 quiet cryptomgr.notests {options}"\n')
    return str(path.relative_to(ROOT))


def test_virtio_console_output_and_input(run_pgvisor, bench):
    cfg = hvc_cfg(bench, VM, "pgvisor.test=hvc pgvisor.hvcread=1")
    steps = [rf"expect ^\[{VM}\] LINUX-GUEST: hvc reading$",
             rf"send {TYPED}\r"]
    run = run_pgvisor([cfg], mem=256, timeout=300, input=steps)
    lines = run.vm_lines(VM)
    assert "LINUX-GUEST: init reached" in lines, run.output
    # The guest found the device: the module bound and made hvc0.
    assert not [l for l in lines if l.startswith("LINUX-GUEST: no hvc0")], run.output
    # The line went out through the transmitq and came out whole, with
    # the VM's prefix, as a COM1 line would; /init saw the write complete.
    assert "LINUX-GUEST: hello from hvc0" in lines, run.output
    assert "LINUX-GUEST: hvc written" in lines, run.output
    assert lines.count("LINUX-GUEST: hello from hvc0") == 1
    # What was typed reached the guest through the receiveq, and hvc0's
    # terminal echoed it back through the transmitq.
    assert not run.input_pending, run.output
    assert f"LINUX-GUEST: hvc read '{TYPED}'" in lines, run.output
    assert TYPED in lines, run.output
    assert f"pgvisor: vm {VM}: powered off (ACPI S5)" in run.lines
    m = re.search(rf"^pgvisor:   vm {VM}: virtio-console: out (\d+) bytes, in (\d+) bytes, "
                  r"(\d+) typed bytes dropped$", run.output, re.M)
    assert m, run.output
    # The hello line (29 + CR LF) and the terminal's echo of the typed one.
    assert int(m.group(1)) >= len("LINUX-GUEST: hello from hvc0\r\n") + len(TYPED)
    assert int(m.group(2)) == len(TYPED) + 1  # the line and its CR
    assert int(m.group(3)) == 0
    assert "pgvisor: result: success" in run.lines
    assert run.status == 0
