"""Resource control and isolation: a VM reaches only the memory and ports it
was given, whatever it does."""
import re


def test_probe_never_sees_the_neighbours_memory(run_pgvisor):
    run = run_pgvisor(["configs/isolation/neighbour.cfg", "configs/isolation/probe.cfg"],
                      timeout=150)
    probe = run.vm_lines("probe")
    scanned = [l for l in probe if l.startswith("probe: scanned ")]
    assert len(scanned) == 1, run.output
    m = re.match(r"probe: scanned (\d+) KiB, pattern 0x5a17c0de found (\d+) times$", scanned[0])
    assert m, scanned[0]
    # All of its RAM below the legacy hole and above 1 MiB, none of it the
    # neighbour's: the pattern is nowhere.
    assert int(m.group(1)) >= 3 * 1024
    assert int(m.group(2)) == 0
    assert any(re.match(r"probe: wrote and verified \d+ KiB$", l) for l in probe)
    # Past its RAM it is stopped, with the address it touched.
    beyond = [l for l in probe if l.startswith("probe: reading beyond RAM at ")]
    assert beyond == ["probe: reading beyond RAM at 0x00400000"], probe
    assert not any(l.startswith("probe: beyond RAM read") for l in probe)
    crash = [l for l in run.lines if l.startswith("pgvisor: vm probe: crashed: EPT violation")]
    assert len(crash) == 1 and "guest-physical 0x400000 (outside its RAM of 4096 KiB)" in crash[0]
    # The neighbour's pattern survived the probe's writes.
    neighbour = run.vm_lines("neighbour")
    assert any(re.match(r"hello: fill 0x5a17c0de over \d+ KiB verified ok$", l)
               for l in neighbour), run.output
    assert "hello: all checks passed" in neighbour
    # The probe looked while the pattern was in place, and wrote before
    # the neighbour checked it: the order on the console shows both.
    order = [l for l in run.lines if "fill 0x5a17c0de" in l or l.startswith(("[probe] probe: scanned",
             "[probe] probe: wrote"))]
    assert [o.split(" ", 2)[1] for o in order] == ["hello:", "probe:", "probe:", "hello:"], order
    assert "written over" in order[0] and "verified ok" in order[3]
    assert "pgvisor:   vm neighbour: exited with status 1 (value 0), restarts 0" in run.lines


def test_hostile_ports_do_not_reach_the_machine(run_pgvisor):
    run = run_pgvisor(["configs/isolation/hostile.cfg", "configs/hello.cfg"], timeout=120)
    hostile = run.vm_lines("hostile")
    # PCI configuration, the PIT and the PIC are the VM's own devices.
    for what in ["pci-config", "pit", "pic-mask"]:
        assert f"probe: port {what} done" in hostile, run.output
    assert "probe: pci bus 0 device 0 bar0 reads 0x00000000 after writing all-ones" in hostile
    # The keyboard controller's reset command resets the VM, not the
    # machine: the VM reboots (a bounded number of times, then it is
    # destroyed) while pgvisor and the other VM go on.
    resets = [l for l in run.lines if l == "pgvisor: vm hostile: reset by the guest (reset port)"]
    assert len(resets) == 4, run.output
    assert [l for l in run.lines if l.startswith("pgvisor: vm hostile: restarting")] == \
        [f"pgvisor: vm hostile: restarting ({i} of 3)" for i in (1, 2, 3)]
    assert "pgvisor:   vm hostile: reset by the guest, restarts 3" in run.lines
    assert sum(1 for l in run.lines if l.startswith("pgvisor 0.1:")) == 1
    assert "hello: all checks passed" in run.vm_lines("hello")
    assert "pgvisor: 1 of 2 VMs succeeded" in run.lines
