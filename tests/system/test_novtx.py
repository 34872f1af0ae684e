"""pgvisor on a machine without VT-x (QEMU TCG has no VMX) must say so and
power off by itself."""
import pytest


@pytest.mark.parametrize("uefi", [False, True], ids=["bios", "uefi"])
def test_no_vtx_in_qemu_tcg(run_pgvisor, uefi):
    run = run_pgvisor(["configs/hello.cfg"], emu="qemu", uefi=uefi, timeout=60)
    assert any(line.startswith("pgvisor: error: VT-x is not available") for line in run.lines), \
        run.output
    assert "pgvisor: result: no-vtx" in run.lines
    assert run.end == "poweroff", "pgvisor did not power the machine off within 60 s"
    assert run.status == 2
