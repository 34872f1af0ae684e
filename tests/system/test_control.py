"""The control channel (docs/CONTROL.md): JSON lines on COM2, driven by
scripts/pgvisorctl's Control class, one boot for every check: two echo VMs
are listed, paused, resumed and destroyed, the events arrive, and garbage,
an oversize line and an unknown field get JSON errors while the channel
keeps answering."""
import importlib.machinery
import importlib.util
import re
import socket
import sys
import time

from conftest import ROOT

READY_SECONDS = 180  # Bochs boots pgvisor and both VMs first
REPLY_SECONDS = 60


def load_pgvisorctl():
    loader = importlib.machinery.SourceFileLoader("pgvisorctl", str(ROOT / "scripts/pgvisorctl"))
    spec = importlib.util.spec_from_loader("pgvisorctl", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def echo_cfg(bench, name):
    path = bench.dir / f"{name}.cfg"
    path.write_text(f'name = "{name}"\nkernel = "../../guests/hello.elf"\nmemory = 4\n'
                    'cmdline = "echo"\n')
    return str(path.relative_to(ROOT))


def session(ctl_module, port):
    """Everything the channel is asked, and what came back, in order."""
    ctl = ctl_module.Control(port, connect_timeout=60)
    got = {}
    try:
        got["ready"] = ctl.wait_event(lambda e: e["event"] == "ready", READY_SECONDS)
        r = lambda cmd, **f: ctl.request(cmd, REPLY_SECONDS, **f)
        got["list"] = r("list")
        got["pause"] = r("pause", vm="alpha")
        got["list_paused"] = r("list")
        got["pause_again"] = r("pause", vm="alpha")
        got["unpause"] = r("unpause", vm="alpha")
        got["no_vm"] = r("pause", vm="nosuch")
        ctl.send_raw(b"hello there, not json\n")
        got["garbage"] = ctl.next_reply(REPLY_SECONDS)
        ctl.send_raw(b'{"id": 90, "cmd": "list", "' + b"x" * 2000 + b'": 1}\n')
        got["oversize"] = ctl.next_reply(REPLY_SECONDS)
        ctl.send_raw(b'{"id": 91, "cmd": "list", "colour": "blue"}\n')
        got["unknown_field"] = ctl.next_reply(REPLY_SECONDS)
        ctl.send_raw(b'{"id": 92, "cmd": "frobnicate"}\n')
        got["unknown_cmd"] = ctl.next_reply(REPLY_SECONDS)
        got["exits"] = r("exits", vm="beta")
        got["list_after"] = r("list")
        got["destroy"] = r("destroy", vm="beta")
        got["stopped"] = ctl.wait_event(lambda e: e["event"] == "vm-stopped", REPLY_SECONDS)
        # alpha then ends on its own (quit typed on COM1): its event too.
        got["alpha_stopped"] = ctl.wait_event(
            lambda e: e["event"] == "vm-stopped" and e["vm"] == "alpha", READY_SECONDS)
    except ctl_module.ControlError as e:
        got["error"] = str(e)
    finally:
        ctl.close()
    return got


def by_name(reply):
    return {vm["name"]: vm for vm in reply["vms"]}


def test_control_channel_list_pause_destroy_events_errors(run_pgvisor, bench):
    ctl_module = load_pgvisorctl()
    port = free_port()
    steps = [
        r"expect vm beta: destroyed by the operator",
        r"send quit\r",  # alpha has the keyboard: its echo loop ends
    ]
    run = run_pgvisor([echo_cfg(bench, "alpha"), echo_cfg(bench, "beta")], timeout=300,
                      input=steps, run_options=["--com2", port],
                      alongside=lambda: session(ctl_module, port))
    got = run.alongside
    assert "error" not in got, (got, run.output)
    assert "pgvisor: control channel: JSON requests on COM2" in run.output
    vms = by_name(got["list"])
    assert got["list"]["ok"] is True and got["list"]["id"] == 1
    assert set(vms) == {"alpha", "beta"}
    assert vms["alpha"]["state"] == "running" and vms["alpha"]["memory_mib"] == 4
    assert vms["beta"]["vcpus"] == 1 and vms["beta"]["id"] == 1
    assert got["pause"] == {"id": 2, "ok": True, "state": "paused"}
    assert by_name(got["list_paused"])["alpha"]["state"] == "paused"
    assert got["pause_again"] == {"id": 4, "ok": False, "error": "vm alpha: is not running"}
    assert got["unpause"] == {"id": 5, "ok": True, "state": "running"}
    assert got["no_vm"] == {"id": 6, "ok": False, "error": "no vm named 'nosuch'"}
    assert got["garbage"]["ok"] is False and "id" not in got["garbage"]
    assert got["garbage"]["error"].startswith("expected a JSON object"), got
    assert got["oversize"] == {"ok": False, "error": "line longer than 512 bytes; ignored"}
    assert got["unknown_field"] == {"id": 91, "ok": False,
                                    "error": "list: unknown field 'colour'"}
    assert got["unknown_cmd"] == {"id": 92, "ok": False,
                                  "error": "unknown command 'frobnicate'"}
    # The channel survived all that.
    assert got["exits"]["ok"] is True and got["exits"]["exits"] > 0
    assert by_name(got["list_after"])["beta"]["state"] == "running"
    assert got["destroy"] == {"id": 9, "ok": True, "state": "destroyed"}
    assert got["stopped"] == {"event": "vm-stopped", "vm": "beta", "id": 1,
                              "reason": "destroyed by the operator"}
    assert got["alpha_stopped"]["reason"].startswith("exited through port 0xf4"), got
    # What the operator did is in the console log too.
    assert "pgvisor: control channel: pause alpha" in run.lines
    assert "pgvisor: vm alpha: paused" in run.lines
    assert "pgvisor: 1 of 1 VMs succeeded, 1 destroyed by the operator" in run.lines
    assert run.status == 0, run.output


def rsp_packet(data):
    return b"$" + data + b"#" + b"%02x" % (sum(data) % 256)


def read_packet(ctl, seconds):
    """Raw bytes from the channel (gdb's, not JSON) up to the end of the
    next packet: '#' and its two checksum digits; '+' acknowledgements
    before it included."""
    deadline = time.monotonic() + seconds
    while b"#" not in ctl.buf or len(ctl.buf) < ctl.buf.index(b"#") + 3:
        ctl.sock.settimeout(max(deadline - time.monotonic(), 0.1))
        data = ctl.sock.recv(4096)
        if not data:
            raise ctl_error(ctl)("pgvisor closed the channel in a gdb packet")
        ctl.buf += data
        if time.monotonic() > deadline:
            raise ctl_error(ctl)(f"no whole gdb packet in {seconds} s: {ctl.buf!r}")
    end = ctl.buf.index(b"#") + 3
    packet, ctl.buf = ctl.buf[:end], ctl.buf[end:]
    return packet


def ctl_error(ctl):
    return sys.modules[type(ctl).__module__].ControlError


def gdbserver_session(ctl_module, port):
    ctl = ctl_module.Control(port, connect_timeout=60)
    got = {}
    try:
        ctl.wait_event(lambda e: e["event"] == "ready", READY_SECONDS)
        got["attach"] = ctl.request("gdbserver", REPLY_SECONDS, vm="alpha")
        # COM2 now speaks the remote protocol: the stop at the VM's next
        # entry, then what "?" asks.
        got["stop"] = read_packet(ctl, REPLY_SECONDS)
        ctl.send_raw(b"+" + rsp_packet(b"?"))
        got["question"] = read_packet(ctl, REPLY_SECONDS)
        ctl.send_raw(b"+" + rsp_packet(b"D"))
        got["detach"] = read_packet(ctl, REPLY_SECONDS)
        ctl.send_raw(b"+")  # as gdb acknowledges the reply: not a request
        # gdb has let go: JSON again.
        got["list"] = ctl.request("list", REPLY_SECONDS)
        # Connected until alpha's last event: Bochs dies of SIGPIPE when
        # COM2 writes to a client that left.
        got["alpha_stopped"] = ctl.wait_event(
            lambda e: e["event"] == "vm-stopped" and e["vm"] == "alpha", READY_SECONDS)
    except ctl_module.ControlError as e:
        got["error"] = str(e)
    finally:
        ctl.close()
    return got


def test_gdbserver_gives_com2_to_gdb_until_it_detaches(run_pgvisor, bench):
    ctl_module = load_pgvisorctl()
    port = free_port()
    steps = [
        r"expect vm alpha: gdb detached",
        r"expect pgvisor: control channel: list",  # answered before alpha ends
        r"send quit\r",
    ]
    run = run_pgvisor([echo_cfg(bench, "alpha")], timeout=300, input=steps,
                      run_options=["--com2", port],
                      alongside=lambda: gdbserver_session(ctl_module, port))
    got = run.alongside
    assert "error" not in got, (got, run.output)
    assert got["attach"] == {"id": 1, "ok": True, "state": "running"}, got
    assert got["stop"].startswith(b"$T05"), got
    assert got["question"].startswith(b"+$T05"), got
    assert got["detach"].startswith(b"+$OK#"), got
    assert got["list"]["ok"] is True and got["list"]["vms"][0]["name"] == "alpha", got
    assert "pgvisor: vm alpha: waiting for gdb on COM2 (stopped at its next entry)" in run.lines
    assert "pgvisor: vm alpha: gdb detached, the VM runs on" in run.lines
    assert got["alpha_stopped"]["reason"].startswith("exited through port 0xf4"), got
    assert run.status == 0, run.output


def drain_until_closed(ctl, seconds):
    """What the channel still sends until the machine closes it."""
    deadline = time.monotonic() + seconds
    data = ctl.buf
    while time.monotonic() < deadline:
        ctl.sock.settimeout(max(deadline - time.monotonic(), 0.1))
        try:
            more = ctl.sock.recv(4096)
        except socket.timeout:
            break
        if not more:
            break
        data += more
    return data


def gdbserver_next_vm_session(ctl_module, port):
    ctl = ctl_module.Control(port, connect_timeout=60)
    got = {}
    try:
        ctl.wait_event(lambda e: e["event"] == "ready", READY_SECONDS)
        got["attach_alpha"] = ctl.request("gdbserver", REPLY_SECONDS, vm="alpha")
        got["stop_alpha"] = read_packet(ctl, REPLY_SECONDS)
        ctl.send_raw(b"+" + rsp_packet(b"D"))
        got["detach_alpha"] = read_packet(ctl, REPLY_SECONDS)
        ctl.send_raw(b"+")
        # alpha still runs and keeps the debugger: beta must wait.
        got["refused"] = ctl.request("gdbserver", REPLY_SECONDS, vm="beta")
        got["destroy_alpha"] = ctl.request("destroy", REPLY_SECONDS, vm="alpha")
        ctl.wait_event(lambda e: e["event"] == "vm-stopped" and e["vm"] == "alpha",
                       READY_SECONDS)
        # alpha has finished for good: the debugger moves to beta.
        got["attach_beta"] = ctl.request("gdbserver", REPLY_SECONDS, vm="beta")
        got["stop_beta"] = read_packet(ctl, REPLY_SECONDS)
        ctl.send_raw(b"+" + rsp_packet(b"g"))
        got["regs_beta"] = read_packet(ctl, REPLY_SECONDS)
        ctl.send_raw(b"+" + rsp_packet(b"k"))
        # Connected until pgvisor is gone (Bochs and SIGPIPE, above).
        got["after_kill"] = drain_until_closed(ctl, READY_SECONDS)
    except ctl_module.ControlError as e:
        got["error"] = str(e)
    finally:
        ctl.close()
    return got


def test_gdbserver_moves_to_another_vm_once_the_first_has_ended(run_pgvisor, bench):
    """gdb may debug another VM than the one it debugged before only once
    that one has finished: refused while alpha runs, granted for beta after
    alpha is destroyed; beta's registers read, and gdb's kill ends it."""
    ctl_module = load_pgvisorctl()
    port = free_port()
    run = run_pgvisor([echo_cfg(bench, "alpha"), echo_cfg(bench, "beta")], timeout=300,
                      run_options=["--com2", port],
                      alongside=lambda: gdbserver_next_vm_session(ctl_module, port))
    got = run.alongside
    assert "error" not in got, (got, run.output)
    assert got["attach_alpha"]["ok"] is True, got
    assert got["stop_alpha"].startswith(b"$T05"), got
    assert got["detach_alpha"].startswith(b"+$OK#"), got
    assert got["refused"]["ok"] is False, got
    assert "was attached to vm alpha, which still runs" in got["refused"]["error"], got
    assert got["destroy_alpha"]["ok"] is True, got
    assert got["attach_beta"]["ok"] is True, got
    assert got["stop_beta"].startswith(b"$T05"), got
    # 'g' answers with registers (hex digits), not an error.
    assert re.match(rb"^\+\$[0-9a-fx]{64,}#", got["regs_beta"]), got
    assert "pgvisor: vm beta: waiting for gdb on COM2 (stopped at its next entry)" in run.lines
    assert "pgvisor: vm beta: killed by gdb" in run.lines, run.output
    assert "pgvisor:   vm beta: destroyed by the operator, restarts 0" in run.lines, run.output
