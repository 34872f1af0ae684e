"""The machine's own NIC as a bridge's uplink (pgvisor's command line
"bridge=lan0:nic0"): pgvisor's e1000 driver passes its PHY-loopback
self-test in QEMU, and two Bochs machines on one bxhub LAN (scripts/run
--net hub:PORT), each running pgvisor with one Linux VM on a bridge
uplinked to its e1000, ping each other and move 1 MiB over TCP."""
import hashlib
import os
import re
import socket

import pytest

from conftest import BUILD, ROOT, boot_on_hub, make

LINUX = BUILD / "guests" / "linux"
BAD = re.compile(r"Kernel panic|\bOops\b|BUG:|Call Trace|WARNING:|general protection", re.I)
NC_MD5 = hashlib.md5("".join(f"{i}\n" for i in range(1, 200001)).encode()[:1 << 20]).hexdigest()
# Each test its own LAN: runs of other checkouts may use other ports.
SELFTEST_PORT = 41200 + os.getpid() % 100 * 20
PAIR_PORT = SELFTEST_PORT + 10
PAIR_TIMEOUT = 900


def test_selftest_net_passes_in_qemu(built_pgvisor, bench):
    iso = bench.dir / "selftest.iso"
    cfg = bench.dir / "hello.cfg"
    cfg.write_text('name = "hello"\nkernel = "../../guests/hello.elf"\n')
    bench.mkiso(["--kernel", built_pgvisor, "--cmdline", "selftest=net", iso,
                 str(cfg.relative_to(ROOT))])
    run = bench.run("1-selftest-qemu", iso, "qemu", 60, ["--net", f"hub:{SELFTEST_PORT}"])
    assert ("pgvisor: selftest: net nic0: link up, 64 frames looped back intact: passed"
            in run.lines), run.output
    # Before the VT-x check: QEMU TCG has none, and the test ran all the same.
    assert any(line.startswith("pgvisor: VT-x: not available") for line in run.lines), \
        run.output
    assert run.status == 0


def test_bad_uplinks_get_one_line_each(built_pgvisor, bench):
    cfg = bench.dir / "hello.cfg"
    cfg.write_text('name = "hello"\nkernel = "../../guests/hello.elf"\n')
    iso = bench.dir / "bad.iso"
    bench.mkiso(["--kernel", built_pgvisor, "--cmdline",
                 "bridge=lan0:nic0 bridge=lan1:nic0 bridge=lan0:nic1 bridge=lan2 "
                 "bridge=averyveryverylongname:nic0 ip=10.0.0.9/24 migrate-key=tooshort", iso,
                 str(cfg.relative_to(ROOT))])
    run = bench.run("1-bad-uplinks", iso, "bochs", 60, ["--net", f"hub:{SELFTEST_PORT}"])
    for line in ("pgvisor: bridge lan0: uplink nic0, link up",
                 "pgvisor: bridge lan1: nic0 is already the uplink of bridge lan0",
                 "pgvisor: bridge lan0: no NIC nic1 (pgvisor drives 1 NIC)",
                 "pgvisor: bridge: 'bridge=lan2' is not bridge=NAME:NIC (NAME up to 15 "
                 "characters)",
                 "pgvisor: bridge: 'bridge=averyveryverylongname:nic0' is not bridge=NAME:NIC "
                 "(NAME up to 15 characters)",
                 "pgvisor: bridge lan0: no VM uses it: nic0 carries nothing"):
        assert run.lines.count(line) == 1, (line, run.output)
    # pgvisor's own address beside the uplink, and a migration key too short
    # to use: one line, the key never shown.
    assert "pgvisor: ip 10.0.0.9/24 on nic0 (" in run.output, run.output
    assert ("pgvisor: migrate: migrate-key= is too short (16 characters at least): no "
            "migration between machines") in run.lines, run.output
    assert "tooshort" not in run.output and "migrate-key=***" in run.output
    # The VM runs all the same.
    assert "pgvisor:   vm hello: exited with status 1 (value 0), restarts 0" in run.lines, \
        run.output


def udp_port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def linux_cfg(bench, name, cmdline, mac):
    path = bench.dir / f"{name}.cfg"
    path.write_text(f'name = "{name}"\n'
                    f'kernel = "../../guests/linux/vmlinuz"\n'
                    f'ramdisk = "../../guests/linux/initrd.img"\n'
                    f'memory = 128\n'
                    f'cmdline = "console=ttyS0 quiet cryptomgr.notests {cmdline}"\n'
                    f'vif = [ "mac={mac},bridge=lan0" ]\n')
    return str(path.relative_to(ROOT))


def run_pair(bench, isos, timeout):
    """Both machines at once on one hub (conftest.boot_on_hub): each
    machine's NIC has its VM's MAC."""
    machines = [(label, iso, mac, ["--mem", "256", "--smp", str(smp)])
                for label, iso, mac, smp in isos]
    return [(status, out, seconds)
            for status, out, _, seconds in boot_on_hub(bench, machines, PAIR_PORT, timeout)]


def vm_lines(output, name):
    prefix = f"[{name}] "
    return [l[len(prefix):] for l in output.splitlines() if l.startswith(prefix)]


@pytest.fixture(scope="module")
def linux_guest():
    make("guest-linux")


def test_two_machines_on_one_hub_ping_and_move_a_mebibyte(built_pgvisor, bench, linux_guest):
    net = "pgvisor.test=net pgvisor.ip=10.0.0.{}/24 pgvisor.peer=10.0.0.{} pgvisor.nc={}"
    isos = []
    # Machine b has two CPUs: both poll its NIC, and frames the one
    # without the VM takes reach the VM through its port's ring.
    for label, name, me, peer, role, mac, extra, smp in (
            ("a", "lan-a", 1, 2, "recv", "02:00:00:00:0a:01", " bridge=lan9:nic7", 1),
            ("b", "lan-b", 2, 1, "send", "02:00:00:00:0b:01", "", 2)):
        cfg = linux_cfg(bench, name, net.format(me, peer, role), mac)
        iso = bench.dir / f"{label}.iso"
        bench.mkiso(["--kernel", built_pgvisor, "--cmdline", "bridge=lan0:nic0" + extra, iso,
                     cfg])
        isos.append((label, iso, mac, smp))
    (sa, a_out, a_s), (sb, b_out, b_s) = run_pair(bench, isos, PAIR_TIMEOUT)
    a, b = vm_lines(a_out, "lan-a"), vm_lines(b_out, "lan-b")
    a_host = a_out.splitlines()
    # Machine a: the unknown NIC and the bridge no VM uses, one line each.
    assert "pgvisor: bridge lan0: uplink nic0, link up" in a_host, a_out
    assert "pgvisor: bridge lan9: no NIC nic7 (pgvisor drives 1 NIC)" in a_host
    assert "LINUX-GUEST: ping ok" in a, a_out
    assert "LINUX-GUEST: ping ok" in b, b_out
    assert f"LINUX-GUEST: nc sending {NC_MD5}" in b
    assert "LINUX-GUEST: nc sent" in b, b_out
    assert f"LINUX-GUEST: nc received 1048576 {NC_MD5}" in a, a_out
    took = next(int(m.group(1)) for m in (re.match(r"LINUX-GUEST: nc took (\d+) ms", l)
                                          for l in b) if m)
    print(f"\ncross-machine TCP: 1 MiB in {took} ms of the guest's time: "
          f"{(1 << 20) / 1e6 / (took / 1000):.3f} MB/s; wall {a_s:.0f} s and {b_s:.0f} s")
    for out in (a_out, b_out):
        nic = next(l for l in out.splitlines() if l.startswith("pgvisor: nic nic0: sent"))
        m = re.search(r"sent (\d+) frames .* received (\d+) .* errors (\d+)", nic)
        assert m and int(m.group(1)) > 100 and int(m.group(2)) > 100, nic
        assert m.group(3) == "0", nic
    for lines in (a, b):
        assert not [l for l in lines if BAD.search(l)]
    assert sa == 0 and sb == 0
    # The last run on the hub stopped the bxhub the first one started.
    assert udp_port_free(PAIR_PORT + 1)
