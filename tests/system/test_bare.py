"""Guest programs booted directly by GRUB, without pgvisor: the reference
behaviour pgvisor must reproduce."""
import re

import pytest

from conftest import ROOT

MOTD = "configs/files/motd.txt"
SPIN = 100000
MEM_MIB = 64


def fnv1a(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def spin_checksum(iterations):
    """The same xorshift loop as hello's spin=N."""
    x, m = 0x12345678, 0xFFFFFFFF
    for i in range(iterations):
        x ^= (x << 13) & m
        x ^= x >> 17
        x ^= (x << 5) & m
        x = (x + i) & m
    return x


@pytest.mark.parametrize("emu", ["bochs", "qemu"])
@pytest.mark.parametrize("proto", ["mb1", "mb2"])
def test_hello_bare(boot_bare, proto, emu):
    run = boot_bare("hello", proto, emu, cmdline=f"spin={SPIN}", modules=[MOTD], mem=MEM_MIB,
                    expect_line="^hello: all checks passed$")
    assert run.status == 0, run.output
    assert run.end == "poweroff"
    lines = run.lines_with_prefix("hello: ")
    assert not [line for line in lines if "FAILED" in line]
    assert lines[-1] == "hello: all checks passed"

    assert any(line.startswith(f"hello: boot {proto} ") for line in lines)
    assert f'hello: cmdline "spin={SPIN}"' in lines

    motd = (ROOT / MOTD).read_bytes()
    assert "hello: modules 1" in lines
    assert f"hello: module 0 name {MOTD} size {len(motd)} fnv1a 0x{fnv1a(motd):08x}" in lines
    assert f"hello: module 0 text {motd.decode().splitlines()[0]}" in lines

    memory = [re.match(r"hello: memory (\d+) KiB usable \((\d+) KiB below 1 MiB \+ (\d+) KiB",
                       line) for line in lines]
    total, low, high = [int(g) for g in next(m for m in memory if m).groups()]
    assert total == low + high
    # The firmware keeps some for itself (ACPI tables, EBDA): 90-100 %.
    assert 0.9 * MEM_MIB * 1024 <= total <= MEM_MIB * 1024
    assert 600 <= low <= 640

    assert f"hello: spin {SPIN} checksum 0x{spin_checksum(SPIN):08x}" in lines
    assert "hello: pgvisor absent" in lines


@pytest.mark.parametrize("cmdline, code", [("", 0), ("exit=5", 5)], ids=["default", "exit=5"])
def test_hello_exit_code_reaches_debug_exit_port(boot_bare, cmdline, code):
    # QEMU's isa-debug-exit turns guest_exit(code) into status (code << 1) | 1.
    run = boot_bare("hello", "mb2", "qemu", cmdline=cmdline,
                    expect_line="^hello: all checks passed$")
    assert run.status == 0, run.output
    assert run.emulator_status == (code << 1) | 1


def test_hello_halt_option_stops_without_powering_off(boot_bare):
    run = boot_bare("hello", "mb2", "qemu", cmdline="halt", timeout=10,
                    expect_line="^hello: halting$")
    assert run.status == 0, run.output
    assert run.lines_with_prefix("hello: ")[-2:] == ["hello: all checks passed",
                                                      "hello: halting"]
    assert run.end == "timeout"


@pytest.mark.parametrize("emu", ["bochs", "qemu"])
def test_oob_bare_reaches_64_mib_when_the_machine_has_it(boot_bare, emu):
    run = boot_bare("oob", "mb2", emu, mem=128, expect_line="^oob: still running")
    assert run.status == 0, run.output
    assert run.lines_with_prefix("oob: ")[0] == "oob: touching 0x04000000"


def test_oob_bare_address_from_cmdline(boot_bare):
    run = boot_bare("oob", "mb2", "qemu", cmdline="addr=0x200000",
                    expect_line="^oob: still running")
    assert run.status == 0, run.output
    assert "oob: touching 0x00200000" in run.lines
