"""The scripts themselves, without booting anything: mkiso's module names
(which must match the hypervisor's config_resolve_path) and errors, and
run's exit status rules."""
import functools
import importlib.machinery
import importlib.util
import os
import re
import subprocess

import pytest

from conftest import BUILD, GUESTS, MKESP, MKISO, ROOT, RUN


@functools.cache
def load_script(path):
    """A script without .py suffix, imported as a module."""
    loader = importlib.machinery.SourceFileLoader(path.name, str(path))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(path.name, loader))
    loader.exec_module(module)
    return module


def grub_cfg_of(iso, tmp_path):
    """The boot commands built into the ISO's GRUB: read from the UEFI image
    (EFI/BOOT/BOOTX64.EFI in the ISO's EFI partition), where grub-mkimage
    keeps the config as plain text ending in a NUL; the BIOS image is built
    from the same text."""
    part, app = tmp_path / "efi.img", tmp_path / "bootx64.efi"
    subprocess.run(["xorriso", "-osirrox", "on", "-indev", str(iso), "-extract",
                    "/boot/grub/efi.img", str(part)], check=True, capture_output=True)
    subprocess.run(["mcopy", "-n", "-i", str(part), "::/EFI/BOOT/BOOTX64.EFI", str(app)],
                   check=True, capture_output=True)
    data = app.read_bytes()
    start = data.index(b"serial --unit=0 ")
    return data[start:data.index(b"\0", start)].decode()


def mkiso(args, cwd):
    return subprocess.run([str(MKISO)] + [str(a) for a in args], cwd=cwd, capture_output=True,
                          text=True)


def test_mkiso_names_modules_like_config_resolve_path(tmp_path):
    (tmp_path / "vms" / "files").mkdir(parents=True)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "k.elf").write_bytes(b"kernel")
    (tmp_path / "vms" / "files" / "m.txt").write_text("module\n")
    (tmp_path / "abs.bin").write_bytes(b"x")
    (tmp_path / "vms" / "a.cfg").write_text(
        'name = "a"\nkernel = "../images/k.elf"\n'
        f'modules = [ "files/./m.txt", "{tmp_path}//abs.bin" ]\n')
    (tmp_path / "vms" / "b.cfg").write_text(
        'name = "b"; kernel = "../images//k.elf"\nramdisk = "files/m.txt"\n')
    iso = tmp_path / "out.iso"
    p = mkiso(["--kernel", GUESTS / "hello.elf", iso, "./vms/../vms/a.cfg", "vms/b.cfg"],
              tmp_path)
    assert p.returncode == 0, p.stderr
    modules = [line.split()[1:] for line in grub_cfg_of(iso, tmp_path).splitlines()
               if line.strip().startswith("module2")]
    # Each file once, in order of first mention.
    assert [name for _, name in modules] == [
        "vms/a.cfg", "images/k.elf", "vms/files/m.txt", f"{tmp_path}/abs.bin", "vms/b.cfg"]
    assert [path for path, _ in modules] == [f"/pgvisor/{n}" for n in range(5)]


def test_mkiso_is_repeatable(tmp_path):
    """The same content gives the same bytes (Bochs runs of a test are
    compared tick for tick, and GRUB's images carry the ISO's UUID); other
    content gives another UUID."""
    (tmp_path / "k.elf").write_bytes(b"kernel")
    (tmp_path / "a.cfg").write_text('name = "a"\nkernel = "k.elf"\n')
    first, second, other = (tmp_path / n for n in ("1.iso", "2.iso", "3.iso"))
    for iso, cmdline in ((first, "x=1"), (second, "x=1"), (other, "x=2")):
        p = mkiso(["--kernel", GUESTS / "hello.elf", "--cmdline", cmdline, iso, "a.cfg"],
                  tmp_path)
        assert p.returncode == 0, p.stderr
    assert first.read_bytes() == second.read_bytes()
    uuid = re.compile(r"--fs-uuid --set=root (\S+)")
    assert uuid.search(grub_cfg_of(first, tmp_path)).group(1) != \
        uuid.search(grub_cfg_of(other, tmp_path)).group(1)


def test_mkiso_carries_disk_images(tmp_path):
    """A disk's target (the first field of xl's "target,format,vdev,access")
    becomes a module named as config_resolve_path names it, like kernel's."""
    (tmp_path / "vms").mkdir()
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "k.elf").write_bytes(b"kernel")
    (tmp_path / "images" / "root.ext4").write_bytes(b"\0" * 4096)
    (tmp_path / "vms" / "tools.img").write_bytes(b"tools")
    (tmp_path / "vms" / "a.cfg").write_text(
        'name = "a"\nkernel = "../images/k.elf"\n'
        'disk = [ "../images/root.ext4,raw,vda,rw",\n'
        '         " tools.img , raw, vdb, ro",\n'
        '         "../images//root.ext4,raw,vdc" ]\n'
        'vif = [ "mac=02:00:00:00:00:01,bridge=lan0" ]\n')
    iso = tmp_path / "out.iso"
    p = mkiso(["--kernel", GUESTS / "hello.elf", iso, "vms/a.cfg"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "warning" not in p.stderr
    modules = [line.split()[1:] for line in grub_cfg_of(iso, tmp_path).splitlines()
               if line.strip().startswith("module2")]
    # The image named twice goes on once.
    assert [name for _, name in modules] == [
        "vms/a.cfg", "images/k.elf", "images/root.ext4", "vms/tools.img"]
    out = tmp_path / "root.ext4.out"
    subprocess.run(["xorriso", "-osirrox", "on", "-indev", str(iso), "-extract",
                    modules[2][0], str(out)], check=True, capture_output=True)
    assert out.read_bytes() == b"\0" * 4096


def test_mkiso_warns_of_missing_disk_image(tmp_path):
    (tmp_path / "x.cfg").write_text('name = "x"\nkernel = "k.elf"\n'
                                    'disk = [ "gone.img,raw,vda" ]\n')
    (tmp_path / "k.elf").write_bytes(b"kernel")
    p = mkiso(["--kernel", GUESTS / "hello.elf", tmp_path / "o.iso", "x.cfg"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "warning" in p.stderr and "disk" in p.stderr and "gone.img" in p.stderr


def mkesp(args, cwd):
    return subprocess.run([str(MKESP), "--loader", str(BUILD / "pgvisor.efi")] +
                          [str(a) for a in args], cwd=cwd, capture_output=True, text=True)


def esp_files(image):
    """{path: bytes} of every file on the image's ESP (mtools)."""
    listing = subprocess.run(["mdir", "-i", f"{image}@@1M", "-/", "-b", "::"], check=True,
                             capture_output=True, text=True).stdout.split()
    files = {}
    for path in listing:
        if path.endswith("/"):
            continue
        data = subprocess.run(["mtype", "-i", f"{image}@@1M", path], check=True,
                              capture_output=True).stdout
        files[path.removeprefix("::/")] = data
    return files


def test_mkesp_layout_and_names(tmp_path):
    """The loader, pgvisor.conf and every file at the name pgvisor looks
    up (the same names as mkiso's modules)."""
    (tmp_path / "vms").mkdir()
    (tmp_path / "guests").mkdir()
    (tmp_path / "vms" / "a.cfg").write_text('name = "a"\nkernel = "../guests/k.elf"\n'
                                            'modules = [ "m.txt" ]\n')
    (tmp_path / "vms" / "m.txt").write_text("module")
    (tmp_path / "guests" / "k.elf").write_bytes(b"kernel")
    image = tmp_path / "esp.img"
    p = mkesp(["--cmdline", "no-preemption-timer", image, "./vms/../vms/a.cfg"], tmp_path)
    assert p.returncode == 0, p.stderr
    files = esp_files(image)
    assert files["EFI/BOOT/BOOTX64.EFI"] == (BUILD / "pgvisor.efi").read_bytes()
    assert files["guests/k.elf"] == b"kernel"
    assert files["vms/m.txt"] == b"module"
    conf = files["pgvisor.conf"].decode()
    assert 'cmdline = "no-preemption-timer"\n' in conf
    assert 'vm = "vms/a.cfg"\n' in conf
    assert sorted(files) == ["EFI/BOOT/BOOTX64.EFI", "guests/k.elf", "pgvisor.conf",
                             "vms/a.cfg", "vms/m.txt"]
    # An MBR with one EFI system partition (type 0xEF) from 1 MiB.
    mbr = image.read_bytes()[:512]
    assert mbr[510:] == b"\x55\xaa" and mbr[446 + 4] == 0xEF


def test_mkesp_carries_disk_images(tmp_path):
    (tmp_path / "vms").mkdir()
    (tmp_path / "vms" / "a.cfg").write_text('name = "a"\nkernel = "k.elf"\n'
                                            'disk = [ "disks/d.img,raw,vda,ro" ]\n')
    (tmp_path / "vms" / "k.elf").write_bytes(b"kernel")
    (tmp_path / "vms" / "disks").mkdir()
    (tmp_path / "vms" / "disks" / "d.img").write_bytes(b"disk")
    image = tmp_path / "esp.img"
    p = mkesp([image, "vms/a.cfg"], tmp_path)
    assert p.returncode == 0, p.stderr
    files = esp_files(image)
    assert files["vms/disks/d.img"] == b"disk"


def test_mkesp_refuses_files_outside_and_warns_of_missing(tmp_path):
    (tmp_path / "x.cfg").write_text('name = "x"\nkernel = "../k.elf"\n')
    (tmp_path.parent / "k.elf").write_bytes(b"kernel")
    p = mkesp([tmp_path / "o.img", "x.cfg"], tmp_path)
    assert p.returncode != 0
    assert "mkesp: ../k.elf: outside the current directory" in p.stderr
    (tmp_path / "y.cfg").write_text('name = "y"\nkernel = "gone.elf"\n')
    p = mkesp([tmp_path / "o.img", "y.cfg"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "warning" in p.stderr and "gone.elf" in p.stderr


def test_mkiso_warns_of_missing_file_and_still_builds(tmp_path):
    # pgvisor itself must refuse such a VM with a clear message, so the
    # config still goes on the ISO (tests/system/test_pgvisor.py checks).
    (tmp_path / "x.cfg").write_text('name = "x"\nkernel = "k.elf"\nmodules = [ "gone.txt" ]\n')
    (tmp_path / "k.elf").write_bytes(b"kernel")
    p = mkiso(["--kernel", GUESTS / "hello.elf", tmp_path / "o.iso", "x.cfg"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "warning" in p.stderr
    assert "x.cfg" in p.stderr and "modules" in p.stderr and "gone.txt" in p.stderr
    assert (tmp_path / "o.iso").stat().st_size > 0


def test_mkiso_warns_of_syntax_errors_with_line(tmp_path):
    (tmp_path / "x.cfg").write_text('name = "x"\nkernel = \n')
    p = mkiso(["--kernel", GUESTS / "hello.elf", tmp_path / "o.iso", "x.cfg"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "warning" in p.stderr and "x.cfg:2:" in p.stderr


def test_mkiso_bare_passes_cmdline_and_modules(tmp_path):
    iso = tmp_path / "bare.iso"
    p = mkiso(["--bare", iso, "--mb1", GUESTS / "hello-mb1.elf", "--cmdline", "spin=3 exit=2",
               "--module", "configs/files/motd.txt"], ROOT)
    assert p.returncode == 0, p.stderr
    cfg = grub_cfg_of(iso, tmp_path)
    assert "multiboot /boot/guest.elf spin=3 exit=2\n" in cfg
    assert "module /modules/0 configs/files/motd.txt\n" in cfg


@pytest.mark.parametrize("lines, status", [
    (["pgvisor: result: success"], 0),
    (["noise", "pgvisor: result: failure"], 1),
    (["pgvisor: result: no-vtx"], 2),
    (["pgvisor: result: fatal"], 2),
    (["pgvisor: started"], 3),
    ([], 3),
])
def test_run_status_from_result_line(lines, status):
    assert load_script(RUN).status_of(lines, False, None) == status


def test_run_expect_line():
    run = load_script(RUN)
    assert run.status_of(["hello: all checks passed"], False, "^hello: all") == 0
    assert run.status_of(["hello: 1 checks FAILED"], False, "^hello: all") == 1
    assert run.status_of([], True, "^hello: all") == 3


def test_run_cleans_terminal_escapes():
    run = load_script(RUN)
    assert run.clean_line(b"\x1b[2J\x1b[01;01Hpgvisor: result: success\r") == \
        "pgvisor: result: success"


def test_run_bad_usage_is_64(tmp_path):
    assert subprocess.run([str(RUN), "--emu", "nope", "x.iso"],
                          capture_output=True).returncode == 64
    assert subprocess.run([str(RUN), str(tmp_path / "missing.iso")],
                          capture_output=True).returncode == 64


def test_run_vm_lines_picks_one_vms_console():
    from conftest import Run
    run = Run(status=0, output="pgvisor: vm hello started\n[hello] hello: a\n[oob] oob: b\n"
              "[hello] hello: c\n", end="poweroff", seconds=1.0, emulator_status=0)
    assert run.vm_lines("hello") == ["hello: a", "hello: c"]
    assert run.vm_lines("oob") == ["oob: b"]
    assert run.vm_lines("demo") == []


def test_run_says_why_kvm_has_no_nested_vmx(tmp_path):
    run = load_script(RUN)
    cpuinfo, nested = tmp_path / "cpuinfo", tmp_path / "nested"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu svm lm\n")
    assert "no VMX" in run.kvm_vmx_missing(str(cpuinfo), str(nested))
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu vmx lm\n")
    assert run.kvm_vmx_missing(str(cpuinfo), str(nested)) == "kvm_intel is not loaded"
    nested.write_text("N\n")
    assert "nested=N" in run.kvm_vmx_missing(str(cpuinfo), str(nested))
    nested.write_text("Y\n")
    assert run.kvm_vmx_missing(str(cpuinfo), str(nested)) is None


@pytest.mark.parametrize("args", [["--net", "hub"], ["--net", "hub:80"], ["--net", "tap:40000"],
                                  ["--mac", "02:00:00:00:00:01"],
                                  ["--net", "hub:40000", "--mac", "02:00:00:00:00"]])
def test_run_net_bad_usage_is_64(tmp_path, args):
    iso = tmp_path / "x.iso"
    iso.write_bytes(b"")
    assert subprocess.run([str(RUN)] + args + [str(iso)],
                          capture_output=True).returncode == 64


def test_run_hub_starts_bxhub_shares_it_and_the_last_run_stops_it(tmp_path):
    run = load_script(RUN)
    base = 44000 + os.getpid() % 500 * 10
    hub = run.Hub(base, str(tmp_path))
    try:
        assert hub.port == base
        assert not run.udp_port_free(base + 1)  # bxhub listens
        # Another live run (the test's parent, as far as the lock file
        # says) holds slot 1 but has not bound it yet: it is skipped.
        hub.write_claims(hub.claims() + [(base + 2, os.getppid())])
        other = run.Hub(base, str(tmp_path))
        assert other.port == base + 4
    finally:
        hub.close()
    # The parent still holds its slot: bxhub stays.
    assert not run.udp_port_free(base + 1)
    with open(hub.pid_path) as f:
        pid = int(f.read())
    # Gone, as when that run ends: the next close stops bxhub.
    last = run.Hub(base, str(tmp_path))
    last.write_claims([(base, os.getpid())])
    last.close()
    assert run.udp_port_free(base + 1)
    hub.proc.wait(timeout=5)  # our child: reaped here
    assert not run.pid_alive(pid)
