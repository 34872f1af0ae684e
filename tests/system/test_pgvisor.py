"""pgvisor running guests in Bochs (emulated VT-x): the foundation's
end-to-end behaviour, asserted on what the guests and the hypervisor
printed."""
import re
import struct

import pytest

from conftest import BUILD, GUESTS, ROOT

MODELS = ["corei7_sandy_bridge_2600k", "corei7_haswell_4770", "corei7_icelake_u"]
EXITS_LINE = re.compile(r"^pgvisor:   vm (\S+): exits total=(\d+)(.*)$")


def exit_counts(run, vm):
    """{reason: count} from the summary line of vm."""
    for line in run.lines:
        m = EXITS_LINE.match(line)
        if m and m.group(1) == vm:
            counts = dict(kv.split("=") for kv in m.group(3).split())
            return {k: int(v) for k, v in counts.items()} | {"total": int(m.group(2))}
    raise AssertionError(f"no exit summary for vm {vm}:\n{run.output}")


def loaded_end(elf):
    """End of the file bytes of the ELF32 image's last PT_LOAD segment."""
    phoff, = struct.unpack_from("<I", elf, 28)
    phentsize, phnum = struct.unpack_from("<HH", elf, 42)
    end = 0
    for i in range(phnum):
        p_type, p_offset, _, _, p_filesz = struct.unpack_from("<IIIII", elf, phoff + i * phentsize)
        if p_type == 1:
            end = max(end, p_offset + p_filesz)
    return end


def write_cfg(bench, name, kernel, memory=4, cmdline="", extra=""):
    """A config in the test's directory; returns its path relative to the
    repository root (the name mkiso and pgvisor give it)."""
    path = bench.dir / f"{name}.cfg"
    path.write_text(f'name = "{name}"\nkernel = "{kernel}"\nmemory = {memory}\n'
                    f'cmdline = "{cmdline}"\n{extra}')
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("cpu", MODELS)
def test_hello_guest_on_each_cpu_model(run_pgvisor, cpu):
    run = run_pgvisor(["configs/hello.cfg"], cpu=cpu, timeout=90)
    hello = run.vm_lines("hello")
    assert "hello: all checks passed" in hello, run.output
    assert not [l for l in hello if " FAILED" in l or "unexpected exception" in l]
    assert "hello: pgvisor present" in hello
    assert "hello: cpuid hypervisor-bit 1 vmx-bit 0" in hello
    assert 'hello: cpuid hypervisor signature "pgvisorpgvis" max leaf 0x40000010' in hello
    # The timing leaf gives the TSC rate pgvisor measured at boot.
    tsc_khz = re.search(r"^pgvisor: TSC (\d+) kHz", run.output, re.M).group(1)
    # Bochs counts one TSC tick an instruction on every model (50 MHz at its
    # 50 MIPS), whatever Ice Lake's CPUID leaf 0x15 states: pgvisor takes
    # the PIT's measurement and says so.
    assert abs(int(tsc_khz) - 50000) <= 500, tsc_khz
    if cpu == "corei7_icelake_u":
        assert re.search(r"^pgvisor: TSC \d+ kHz, measured against the PIT \(CPUID leaf 0x15 "
                         r"states 1497600 kHz\)$", run.output, re.M), run.output
    assert any(re.fullmatch(rf"hello: cpuid timing tsc {tsc_khz} kHz bus \d+ kHz", l)
               for l in hello), hello
    # CPUID 0x15/0x16 from the same measurement where the model has them
    # (Ice Lake); Sandy Bridge and Haswell have neither.
    if cpu == "corei7_icelake_u":
        assert any(re.fullmatch(r"hello: cpuid tsc leaf crystal [1-9]\d* Hz ratio [1-9]\d*/1: "
                                rf"tsc {tsc_khz} kHz", l) for l in hello), hello
        assert "hello: check cpuid-tsc-leaf ok" in hello
        assert "hello: check cpuid-frequency-leaf ok" in hello
    else:
        assert "hello: cpuid tsc leaf not offered" in hello
    assert "hello: memory 3711 KiB usable (639 KiB below 1 MiB + 3072 KiB above) from memory map" \
        in hello
    assert "hello: module 0 text Welcome to pgvisor: this line came from a Multiboot module." \
        in hello
    # The guest checked its own exit-count deltas; the summary must agree
    # with the totals it saw.
    counts = exit_counts(run, "hello")
    guest_vmcalls = int(re.search(r"vmcall=(\d+)", "\n".join(hello)).group(1))
    assert counts["vmcall"] >= guest_vmcalls >= 1
    assert counts["cpuid"] >= 16 and counts["io"] >= 16
    assert counts["rdmsr"] >= 1 and counts["wrmsr"] >= 1
    assert "ept-violation" not in counts
    assert counts["total"] == sum(v for k, v in counts.items() if k != "total")
    assert "pgvisor:   vm hello: exited with status 1 (value 0), restarts 0" in run.lines
    assert "pgvisor: result: success" in run.lines
    assert run.status == 0 and run.end == "poweroff"
    # What the hypervisor found matches the model's VMX features.
    vtx = [l for l in run.lines if l.startswith("pgvisor: VT-x: EPT")]
    assert len(vtx) == 1
    one_gig = "sandy_bridge" not in cpu
    assert (f"1G pages {'yes' if one_gig else 'no'}, A/D {'yes' if one_gig else 'no'}") in vtx[0]
    # VMCS shadowing (for guest hypervisors): how many of the virtual VMCS's
    # fields the model's shadow VMCS holds; Sandy Bridge has none.
    shadow = [l for l in run.lines if l.startswith("pgvisor: VT-x: VMCS shadowing")]
    fields = {"corei7_haswell_4770": 147, "corei7_icelake_u": 151}.get(cpu)
    assert shadow == ([f"pgvisor: VT-x: VMCS shadowing for guest hypervisors ({fields} of 155 "
                       "fields)"] if fields else []), shadow


def test_guest_outside_its_ram_is_stopped_others_go_on(run_pgvisor):
    run = run_pgvisor(["configs/oob.cfg", "configs/hello.cfg"], timeout=90)
    oob = run.vm_lines("oob")
    assert "oob: touching 0x04000000" in oob
    assert "oob: still running" not in oob
    crash = [l for l in run.lines if l.startswith("pgvisor: vm oob: crashed: EPT violation")]
    assert len(crash) == 1, run.output
    assert re.match(r"pgvisor: vm oob: crashed: EPT violation: read of guest-physical 0x4000000 "
                    r"\(outside its RAM of 4096 KiB\), linear 0x4000000, at rip 0x[0-9a-f]+$",
                    crash[0]), crash[0]
    assert "hello: all checks passed" in run.vm_lines("hello")
    assert exit_counts(run, "oob")["ept-violation"] == 1
    assert "pgvisor: 1 of 2 VMs succeeded" in run.lines
    assert "pgvisor: result: failure" in run.lines
    assert run.status == 1 and run.end == "poweroff"


def test_two_runs_are_identical(run_pgvisor):
    first = run_pgvisor(["configs/hello.cfg"], timeout=90)
    second = run_pgvisor(["configs/hello.cfg"], timeout=90)
    assert "hello: all checks passed" in first.vm_lines("hello")
    # Bochs with clock sync=none is deterministic: TSC values included.
    assert first.output == second.output


def long_cmdline(length, exit_value):
    """"one two pad=xxx... exit=N", length characters: the guest acts on
    its last word only if the whole line reached it."""
    head, tail = "one two pad=", f" exit={exit_value}"
    return head + "x" * (length - len(head) - len(tail)) + tail


def printed_cmdline(lines):
    """The guest's 'hello: cmdline "..."' line, joined again: pgvisor
    splits a guest's serial line every 199 characters."""
    text = "".join(lines)
    m = re.search(r'hello: cmdline "([^"]*)"', text)
    return m.group(1) if m else None


def test_multiboot_guests_take_2048_character_command_lines(run_pgvisor, bench):
    # Linux's limit (COMMAND_LINE_SIZE) is 2,048: test kernels take long
    # lists of test names. Both Multiboot protocols get the whole line;
    # one character more is a config error naming the file and the key.
    mb1 = write_cfg(bench, "mb1", "../../guests/hello-mb1.elf", cmdline=long_cmdline(2048, 5))
    mb2 = write_cfg(bench, "mb2", "../../guests/hello.elf", cmdline=long_cmdline(2048, 6))
    over = write_cfg(bench, "over", "../../guests/hello.elf", cmdline=long_cmdline(2049, 0))
    run = run_pgvisor([mb1, mb2, over], timeout=90)
    lines = run.vm_lines("mb1")
    assert any(l.startswith("hello: boot mb1 magic 0x2badb002") for l in lines), run.output
    assert printed_cmdline(lines) == long_cmdline(2048, 5)
    assert printed_cmdline(run.vm_lines("mb2")) == long_cmdline(2048, 6)
    assert "pgvisor:   vm mb1: exited with status 11 (value 5), restarts 0" in run.lines
    assert "pgvisor:   vm mb2: exited with status 13 (value 6), restarts 0" in run.lines
    over_rel = str((bench.dir / "over.cfg").relative_to(ROOT))
    assert (f"pgvisor: config error: {over_rel}:4: value too long for 'cmdline' (max 2048)"
            in run.lines)
    assert not run.vm_lines("over")


def test_guest_exit_status_and_halt(run_pgvisor, bench):
    code = write_cfg(bench, "code", "../../guests/hello.elf", cmdline="exit=3")
    halt = write_cfg(bench, "halter", "../../guests/hello.elf", cmdline="halt")
    run = run_pgvisor([code, halt], timeout=90)
    assert "pgvisor:   vm code: exited with status 7 (value 3), restarts 0" in run.lines, \
        run.output
    assert ("pgvisor: vm halter: halted (HLT with interrupts disabled, nothing can wake it)"
            in run.lines)
    assert "pgvisor:   vm halter: halted, restarts 0" in run.lines
    assert exit_counts(run, "halter")["hlt"] == 1
    # A non-zero exit value is a failed VM, so the run fails.
    assert "pgvisor: 1 of 2 VMs succeeded" in run.lines
    assert run.status == 1


def test_broken_images_are_refused_and_others_run(run_pgvisor, bench):
    hello = (GUESTS / "hello.elf").read_bytes()
    images = {
        "truncated": hello[:loaded_end(hello) - 1],
        "text": b"#!/bin/sh\necho this is not a kernel\n",
        "arm": hello[:18] + (40).to_bytes(2, "little") + hello[20:],  # e_machine = EM_ARM
    }
    cfgs = []
    for name, data in images.items():
        (bench.dir / f"{name}.img").write_bytes(data)
        cfgs.append(write_cfg(bench, name, f"{name}.img"))
    cfgs.append(write_cfg(bench, "toobig", "../../guests/hello.elf", memory=1))
    cfgs.append("configs/hello.cfg")
    run = run_pgvisor(cfgs, timeout=90)
    load_errors = {}
    for line in run.lines:
        m = re.match(r"pgvisor: vm (\w+): cannot load '[^']+': (.*)$", line)
        if m:
            load_errors[m.group(1)] = m.group(2)
    assert set(load_errors) == {"truncated", "text", "arm", "toobig"}, run.output
    assert "truncated" in load_errors["truncated"]
    assert "not an ELF" in load_errors["text"]
    assert "architecture" in load_errors["arm"]
    assert "fit" in load_errors["toobig"]
    for name in load_errors:
        assert f"pgvisor: vm {name}: not started" in run.lines
        assert not run.vm_lines(name)
    assert "hello: all checks passed" in run.vm_lines("hello")
    assert "pgvisor: summary of 1 VM" in run.lines
    assert run.status == 0


def test_config_errors_name_file_line_and_key(run_pgvisor, bench):
    bad_key = bench.dir / "badkey.cfg"
    bad_key.write_text('name = "badkey"\nkernel = "../../guests/hello.elf"\ncolour = "blue"\n')
    bad_mem = bench.dir / "badmem.cfg"
    bad_mem.write_text('name = "badmem"\nkernel = "../../guests/hello.elf"\nmemory = lots\n')
    no_kernel = write_cfg(bench, "nokernel", "missing.elf")
    rel = lambda p: str(p.relative_to(ROOT))
    run = run_pgvisor([rel(bad_key), rel(bad_mem), no_kernel, "configs/hello.cfg"], timeout=90)
    errors = [l for l in run.lines if l.startswith("pgvisor: config error: ")]
    assert len(errors) == 2, run.output
    assert errors[0].startswith(f"pgvisor: config error: {rel(bad_key)}:3: ")
    assert "colour" in errors[0]
    assert errors[1].startswith(f"pgvisor: config error: {rel(bad_mem)}:3: ")
    assert "memory" in errors[1]
    missing = str((bench.dir / "missing.elf").relative_to(ROOT))
    assert (f"pgvisor: vm nokernel: kernel file '{missing}' was not loaded by the boot loader"
            in run.lines)
    assert "pgvisor: vm nokernel: not started" in run.lines
    assert "hello: all checks passed" in run.vm_lines("hello")
    assert run.status == 0


def test_on_crash_restart_is_bounded_and_preserve_keeps(run_pgvisor, bench):
    strict = 'on_unbacked = "crash"\n'
    restart = write_cfg(bench, "again", "../../guests/oob.elf",
                        extra='on_crash = "restart"\n' + strict)
    keep = write_cfg(bench, "kept", "../../guests/oob.elf", extra='on_crash = "preserve"\n' + strict)
    run = run_pgvisor([restart, keep, "configs/hello.cfg"], timeout=120)
    restarts = [l for l in run.lines if l.startswith("pgvisor: vm again: restarting")]
    assert restarts == [f"pgvisor: vm again: restarting ({i} of 3)" for i in (1, 2, 3)], \
        run.output
    assert run.vm_lines("again").count("oob: touching 0x04000000") == 4
    assert "pgvisor: vm again: restarted 3 times already; destroying it" in run.lines
    assert "pgvisor: vm kept: preserved for inspection (4 MiB kept)" in run.lines
    assert "hello: all checks passed" in run.vm_lines("hello")
    assert any(l.startswith("pgvisor:   vm again: crashed: EPT violation") and
               l.endswith("restarts 3") for l in run.lines)
