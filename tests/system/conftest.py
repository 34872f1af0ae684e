"""System-test helpers: build ISOs with scripts/mkiso, boot them with
scripts/run, and look at what the machine printed.

Every run keeps its ISO, console log and emulator log under
build/test-runs/<test name>/ for debugging.
"""
import fcntl
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
GUESTS = BUILD / "guests"
TEST_RUNS = BUILD / "test-runs"
MKISO = ROOT / "scripts" / "mkiso"
MKESP = ROOT / "scripts" / "mkesp"
RUN = ROOT / "scripts" / "run"
SUMMARY = re.compile(r"^run: end=(\w+) seconds=([\d.]+) status=(\d+) emulator_status=(-?\d+)$",
                     re.M)
INPUT_PENDING = re.compile(r"^run: input: (.*) was still pending at the end$", re.M)
# Seconds scripts/run may take beyond the machine's own timeout.
RUN_OVERHEAD = 30
# Emulators on this 2-core machine slow each other badly: every run takes
# this lock first, so test sessions started side by side (several
# checkouts, several developers) run their machines one at a time.
EMULATOR_LOCK = os.environ.get("PGVISOR_EMULATOR_LOCK", "/tmp/pgvisor-emulator.lock")


@dataclass
class Run:
    """One boot: scripts/run's status and the console it saw."""
    status: int
    output: str
    end: str  # "poweroff" or "timeout"
    seconds: float
    emulator_status: int
    files: dict = field(default_factory=dict)  # what was kept: iso, console, emulator_log
    input_pending: str = None  # the --input step still waiting at the end, if any
    alongside: object = None  # what Bench.run's alongside() returned

    @property
    def lines(self):
        return self.output.splitlines()

    def lines_with_prefix(self, prefix):
        return [line for line in self.lines if line.startswith(prefix)]

    def vm_lines(self, name):
        """The console lines of VM name: pgvisor prints each as "[name] text"."""
        tag = f"[{name}] "
        return [line[len(tag):] for line in self.lines if line.startswith(tag)]


def make(target):
    p = subprocess.run(["make", "-s", "-C", str(ROOT), target], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        pytest.fail(f"make {target} failed:\n{p.stdout}", pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def built_guests():
    make("guests")


@pytest.fixture(scope="session")
def built_pgvisor():
    make("build/pgvisor.elf")
    return BUILD / "pgvisor.elf"


@pytest.fixture(scope="session")
def built_pgvisor_efi():
    """The UEFI loader with the hypervisor inside."""
    make("build/pgvisor.efi")
    return BUILD / "pgvisor.efi"


class Bench:
    """The runs of one test, in build/test-runs/<test name>/."""

    def __init__(self, name):
        self.dir = TEST_RUNS / re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self.count = 0

    def label(self, what):
        self.count += 1
        return f"{self.count}-{what}"

    def mkiso(self, args):
        self.script(MKISO, args)

    def mkesp(self, args):
        """scripts/mkesp: a disk image with an EFI system partition."""
        return self.script(MKESP, args)

    def script(self, path, args):
        p = subprocess.run([str(path)] + [str(a) for a in args], cwd=ROOT,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            pytest.fail(f"{path.name} failed:\n{p.stdout}", pytrace=False)
        return p.stdout

    def run(self, label, iso, emu, timeout, options, input=(), alongside=None):
        """input: steps for scripts/run --input ("expect REGEX", "send
        TEXT" with C escapes, "sleep S"), kept as <label>.input.txt.
        alongside: a function called once the machine has started (a gdb
        session on its COM2, say); what it returns is Run.alongside."""
        console = self.dir / f"{label}.console.log"
        emulator_log = self.dir / f"{label}.{'bochs' if emu == 'bochs' else 'qemu'}.log"
        if input:
            steps = self.dir / f"{label}.input.txt"
            steps.write_text("".join(step + "\n" for step in input))
            options = options + ["--input", str(steps)]
        cmd = [str(RUN), "--emu", emu, "--timeout", str(timeout), "--log", str(console),
               "--bochs-log", str(emulator_log)] + options + [str(iso)]
        with open(EMULATOR_LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if alongside:
                p, side = self.run_alongside(label, cmd, timeout, alongside)
            else:
                p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, errors="replace", timeout=timeout + RUN_OVERHEAD)
                side = None
        (self.dir / f"{label}.run.txt").write_text(shlex.join(cmd) + "\n" + p.stderr)
        m = SUMMARY.search(p.stderr)
        if not m:
            pytest.fail(f"scripts/run gave no summary (status {p.returncode}):\n{p.stderr}",
                        pytrace=False)
        pending = INPUT_PENDING.search(p.stderr)
        return Run(status=p.returncode, output=p.stdout, end=m.group(1),
                   seconds=float(m.group(2)), emulator_status=int(m.group(4)),
                   files={"iso": iso, "console": console, "emulator_log": emulator_log},
                   input_pending=pending.group(1) if pending else None, alongside=side)

    def run_alongside(self, label, cmd, timeout, alongside):
        """Runs cmd in the background (its output into files, so that a
        long alongside() cannot block it on a full pipe) and alongside()
        meanwhile."""
        out_path, err_path = self.dir / f"{label}.stdout.txt", self.dir / f"{label}.stderr.txt"
        with open(out_path, "w") as out, open(err_path, "w") as err:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err)
            try:
                side = alongside()
                proc.wait(timeout=timeout + RUN_OVERHEAD)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        read = lambda path: path.read_text(errors="replace")
        return subprocess.CompletedProcess(cmd, proc.returncode, read(out_path),
                                           read(err_path)), side


@pytest.fixture
def bench(request):
    return Bench(request.node.name)


def guest_elf(guest, proto):
    """build/guests/hello.elf is Multiboot2; hello-mb1.elf its Multiboot1 twin."""
    return GUESTS / (f"{guest}.elf" if proto == "mb2" else f"{guest}-{proto}.elf")


@pytest.fixture
def boot_bare(bench):
    """boot_bare(guest, proto, emu, cmdline, modules, ...) boots a guest
    directly under GRUB (no pgvisor). Status 0 iff a line matches
    expect_line (default: "<guest>: " followed by anything, i.e. any
    output at all). input: steps typed on COM1 (see Bench.run)."""

    def boot(guest, proto, emu, cmdline="", modules=(), mem=128, timeout=60, expect_line=None,
             uefi=False, input=()):
        label = bench.label(f"{guest}-{proto}-{emu}{'-uefi' if uefi else ''}")
        iso = bench.dir / f"{label}.iso"
        args = ["--bare", iso, f"--{proto}", guest_elf(guest, proto), "--cmdline", cmdline]
        for m in modules:
            args += ["--module", m]
        bench.mkiso(args)
        options = ["--mem", str(mem), "--expect-line", expect_line or f"^{guest}: "]
        if uefi:
            options.append("--uefi")
        return bench.run(label, iso, emu, timeout, options, input)

    return boot


@pytest.fixture
def run_pgvisor(bench, built_pgvisor):
    """run_pgvisor(cfgs, emu, cpu, timeout, ...) boots pgvisor with the
    given VM configs (paths relative to the repository root). The status
    comes from pgvisor's "pgvisor: result: ..." line (see scripts/run).
    input: steps typed on COM1 (see Bench.run); cmdline: pgvisor's own;
    run_options: more scripts/run options (--disk IMG ..., --com2 PORT);
    alongside: run while the machine runs (see Bench.run)."""

    def boot(cfgs, emu="bochs", cpu=None, timeout=120, mem=128, smp=1, uefi=False, input=(),
             cmdline="", run_options=(), alongside=None):
        label = bench.label(f"pgvisor-{emu}{'-uefi' if uefi else ''}")
        iso = bench.dir / f"{label}.iso"
        bench.mkiso(["--kernel", built_pgvisor, "--cmdline", cmdline, iso] + list(cfgs))
        options = ["--mem", str(mem), "--smp", str(smp)]
        if cpu:
            options += ["--cpu", cpu]
        if uefi:
            options.append("--uefi")
        options += [str(o) for o in run_options]
        return bench.run(label, iso, emu, timeout, options, input, alongside)

    return boot


def boot_on_hub(bench, machines, port, timeout):
    """Machines at once on one Bochs hub (scripts/run --net hub:PORT), the
    emulator lock held for all of them (the one case where Bochs runs side
    by side). machines: (label, iso, mac, more scripts/run options). Each
    NIC has its own MAC: Bochs's socket network passes a machine only
    broadcasts and frames for its NIC's own address. Returns (status,
    stdout, stderr, seconds) per machine; each command and its stderr are
    kept in bench.dir/LABEL.run.txt."""
    procs, cmds = [], []
    with open(EMULATOR_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for label, iso, mac, options in machines:
            cmd = [str(RUN), "--emu", "bochs", "--timeout", str(timeout), *options,
                   "--net", f"hub:{port}", "--mac", mac,
                   "--log", str(bench.dir / f"{label}.console.log"),
                   "--bochs-log", str(bench.dir / f"{label}.bochs.log"), str(iso)]
            cmds.append(cmd)
            procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True,
                                          errors="replace"))
        outs = [p.communicate(timeout=timeout + RUN_OVERHEAD) for p in procs]
    runs = []
    for (label, *_), cmd, p, (out, err) in zip(machines, cmds, procs, outs):
        (bench.dir / f"{label}.run.txt").write_text(shlex.join(cmd) + "\n" + err)
        m = SUMMARY.search(err)
        assert m, f"scripts/run gave no summary (status {p.returncode}):\n{err}"
        runs.append((p.returncode, out, err, float(m.group(2))))
    return runs
