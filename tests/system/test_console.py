"""The host console: input goes to the focused VM, Ctrl-A three times moves
the focus (to the next VM, then to pgvisor's command line), and the
operator can list, pause, resume and destroy VMs."""
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
        r"expect pgvisor:   right: running",
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
    assert "pgvisor> list" in run.lines and "pgvisor>   left: running" not in run.lines
    assert any(l.startswith("pgvisor:   left: running, ") for l in run.lines)
    assert "pgvisor:   vm right: destroyed by the operator, restarts 0" in run.lines
    assert "pgvisor:   vm left: exited with status 1 (value 0), restarts 0" in run.lines
    # A destroyed VM is a failed one: the run says so.
    assert "pgvisor: 1 of 2 VMs succeeded" in run.lines
    assert run.status == 1
