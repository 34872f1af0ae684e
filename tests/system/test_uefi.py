"""UEFI boot in QEMU TCG with OVMF: pgvisor's own loader (build/pgvisor.efi
on an EFI system partition from scripts/mkesp) and GRUB-EFI's Multiboot2
(the hybrid ISO) must bring up the same hypervisor: the memory, ACPI
tables and framebuffer it found, the screen console, the no-VT-x verdict
(TCG has no VMX) and power-off through UEFI ResetSystem. A bad ESP is
reported on the UEFI console and the loader returns to the firmware."""
import re
import subprocess

import pytest

from conftest import ROOT
from screen import screen_text

HELLO = "configs/hello.cfg"
TIMEOUT = 60
# OVMF ~5 s, GRUB ~2 s, pgvisor well under 1 s in TCG.
BOOT_SECONDS_MAX = 30
# OVMF keeps a few MiB for itself (runtime services, ACPI tables, NVS);
# loader memory (GRUB's heap, our loader's) is free after ExitBootServices.
USABLE_MIN_FRACTION = 0.9
MEMORY = re.compile(r"^pgvisor: memory: (\d+) MiB usable, top (0x[0-9a-f]+), (\d+) MiB free")
FRAMEBUFFER = re.compile(r"^pgvisor: framebuffer: (\d+)x(\d+), 32 bpp, pitch (\d+), at "
                         r"(0x[0-9a-f]+), console on it$")
ACPI = re.compile(r"^pgvisor: ACPI: revision 2, OEM 'BOCHS ', (\d+) tables, S5 found$")
# OVMF's boot manager after a boot option returned an error.
FIRMWARE_TOOK_OVER = r"^BdsDxe: failed to start Boot\d+ .*: (Not Found|Invalid Parameter)$"
PARTITION = "@@1M"  # scripts/mkesp's partition offset, for mtools


# pgvisor's own command line: pgvisor.conf's cmdline on the ESP.
CMDLINE = "no-preemption-timer"


def boot_uefi(bench, path, mem, cfgs=(HELLO,)):
    """path: "esp" (pgvisor.efi) or "grub" (the GRUB ISO booted by UEFI)."""
    label = bench.label(f"{path}-{mem}")
    image = bench.dir / f"{label}.{'img' if path == 'esp' else 'iso'}"
    args = ["--cmdline", CMDLINE, image] + list(cfgs)
    if path == "esp":
        bench.mkesp(args)
    else:
        bench.mkiso(args)
    screen = bench.dir / f"{label}.ppm"
    run = bench.run(label, image, "qemu", TIMEOUT,
                    ["--uefi", "--mem", str(mem), "--screendump", str(screen)])
    return run, screen


def hypervisor_lines(run):
    """pgvisor's own lines, from its banner on (the loader's lines before
    it are on the firmware's console)."""
    start = next(i for i, line in enumerate(run.lines) if line.startswith("pgvisor 0.1: "))
    return [line for line in run.lines[start:] if line.startswith("pgvisor")]


@pytest.mark.parametrize("path,mem", [("esp", 128), ("esp", 384), ("grub", 128), ("grub", 384)])
def test_uefi_boot(bench, built_pgvisor_efi, path, mem):
    run, screen = boot_uefi(bench, path, mem)
    lines = hypervisor_lines(run)
    loader = ("uefi (pgvisor.efi on EDK II firmware " if path == "esp" else
              "multiboot2 (GRUB ")
    assert lines[1].startswith(f"pgvisor: booted by {loader}"), run.output
    assert lines[1].endswith(f"command line '{CMDLINE}', 3 files")

    usable = next(int(m.group(1)) for m in map(MEMORY.match, lines) if m)
    assert USABLE_MIN_FRACTION * mem <= usable < mem, lines
    assert any(ACPI.match(line) for line in lines), lines
    fb = next(m for m in map(FRAMEBUFFER.match, lines) if m)
    width, height, pitch = int(fb.group(1)), int(fb.group(2)), int(fb.group(3))
    assert width >= 640 and height >= 480 and pitch >= 4 * width
    assert any(line.startswith("pgvisor: UEFI system table at 0x") and
               line.endswith("power-off through ResetSystem") for line in lines)
    assert any(line.startswith("pgvisor: error: VT-x is not available") for line in lines)
    assert lines[-1] == "pgvisor: result: no-vtx"
    assert run.status == 2
    assert run.end == "poweroff", "pgvisor did not power the machine off"
    assert run.seconds < BOOT_SECONDS_MAX
    # QEMU's isa-debug-exit (pgvisor's last resort) was not needed.
    assert run.emulator_status == 0

    # The screen holds exactly the console's lines, read back glyph by glyph.
    rows = screen_text(screen)
    assert rows[:len(lines)] == lines
    assert not any(rows[len(lines):])


def test_both_uefi_paths_see_the_same_machine(bench, built_pgvisor_efi):
    """The same memory (both read the firmware's map with
    boot/efi_memmap.c), ACPI tables and screen."""
    esp, _ = boot_uefi(bench, "esp", 128)
    grub, _ = boot_uefi(bench, "grub", 128)
    for pattern in (MEMORY, ACPI, FRAMEBUFFER):
        seen = [[line for line in hypervisor_lines(r) if pattern.match(line)] for r in (esp, grub)]
        assert len(seen[0]) == 1 and seen[0] == seen[1]


def mtools(tool, image, *args):
    subprocess.run([tool, "-i", f"{image}{PARTITION}"] + [str(a) for a in args], check=True,
                   capture_output=True)


BAD_CONF = 'vm = "configs/hello.cfg"\nkernel = "x"\n'
VM_CONFIGS = {"missing-file": 'name = "x"\nkernel = "gone.elf"\n',
              "bad-vm-config": 'name = "x"\nkernel = \n'}


@pytest.mark.parametrize("case,message", [
    ("missing-file",
     "pgvisor: error: cannot read {dir}/gone.elf ({dir}/x.cfg): Not Found"),
    ("bad-vm-config",
     "pgvisor: config error: {dir}/x.cfg:2: missing value for 'kernel'"),
    ("bad-pgvisor-conf",
     "pgvisor: config error: pgvisor.conf:2: unknown setting (expected cmdline or vm)"),
    ("no-pgvisor-conf",
     "pgvisor: error: cannot read \\pgvisor.conf: Not Found"),
], ids=lambda v: "" if v.startswith("pgvisor") else v)
def test_bad_esp_returns_to_firmware(bench, built_pgvisor_efi, case, message):
    rel = bench.dir.relative_to(ROOT)
    cfg = HELLO
    if case in VM_CONFIGS:
        (bench.dir / "x.cfg").write_text(VM_CONFIGS[case])
        cfg = rel / "x.cfg"
    image = bench.dir / f"{case}.img"
    bench.mkesp([image, cfg])
    if case == "bad-pgvisor-conf":
        conf = bench.dir / "pgvisor.conf"
        conf.write_text(BAD_CONF)
        mtools("mcopy", image, "-o", conf, "::/pgvisor.conf")
    if case == "no-pgvisor-conf":
        mtools("mdel", image, "::/pgvisor.conf")
    run = bench.run(case, image, "qemu", TIMEOUT,
                    ["--uefi", "--stop-on", FIRMWARE_TOOK_OVER],
                    input=["expect press a key to return to the firmware", "send \\r"])
    assert message.format(dir=rel) in run.lines, run.output
    assert "pgvisor: not started; press a key to return to the firmware" in run.lines
    assert not any(line.startswith("pgvisor 0.1") for line in run.lines)
    assert run.end == "stopped", "the firmware did not get control back"
    assert run.input_pending is None
