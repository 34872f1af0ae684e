"""timer_mode: what becomes of periodic timer ticks a guest missed while
another VM had its CPU (vmm/dev/tick_backlog.h). Two busy guest/ticktest
VMs share the one host CPU, taking 10 ms slices in turn, and count the
PIT's 1 kHz interrupts over a span of their TSC; with
delay_for_missed_ticks the VM's time, TSC included, stands still while
it waits instead."""
import re

from conftest import ROOT

PIT_HZ = 1193182
PIT_DIVISOR = 1193  # guest/ticktest's
SPAN_TSC = 150_000_000  # 3 s of TSC in Bochs (ips=50000000)


def write_cfg(bench, name, timer_mode):
    path = bench.dir / f"{name}.cfg"
    path.write_text(f'name = "{name}"\nkernel = "../../guests/ticktest.elf"\nmemory = 4\n'
                    f'cmdline = "span={SPAN_TSC}"\ntimer_mode = "{timer_mode}"\n')
    return str(path.relative_to(ROOT))


def tsc_hz_of(run):
    # The reference: the host TSC's rate as pgvisor calibrated it, which
    # the guests' TSCs share (pgvisor only offsets them).
    khz = re.search(r"pgvisor: TSC (\d+) kHz", run.output)
    assert khz, run.output
    return int(khz.group(1)) * 1000


def expected_ticks(tsc, tsc_hz):
    return tsc / tsc_hz * PIT_HZ / PIT_DIVISOR


def ticks_and_tsc(run, name):
    for line in run.vm_lines(name):
        m = re.fullmatch(r"ticktest: ticks (\d+) tsc (\d+)", line)
        if m:
            return int(m.group(1)), int(m.group(2))
    raise AssertionError(f"no ticktest line from {name}:\n{run.output}")


def test_missed_pit_ticks_caught_up_or_dropped(run_pgvisor, bench):
    cfgs = [write_cfg(bench, "caught", "no_delay_for_missed_ticks"),
            write_cfg(bench, "dropped", "no_missed_ticks_pending")]
    run = run_pgvisor(cfgs, timeout=150)
    tsc_hz = tsc_hz_of(run)
    expected = {}
    counted = {}
    for name in ("caught", "dropped"):
        ticks, tsc = ticks_and_tsc(run, name)
        assert tsc >= SPAN_TSC
        counted[name] = ticks
        expected[name] = expected_ticks(tsc, tsc_hz)
    # They really took turns on one CPU: many switches.
    switches = re.search(r"pgvisor: scheduler: (\d+) vCPU switches", run.output)
    assert switches and int(switches.group(1)) >= 100, run.output
    # Caught up: every period counted, within 1 % (a slice's worth of
    # ticks may still be owed when the span ends).
    assert abs(counted["caught"] - expected["caught"]) <= 0.01 * expected["caught"], \
        (counted, expected)
    # Dropped: each slice the VM sat out costs it about ten ticks but one.
    assert counted["dropped"] < 0.9 * expected["dropped"], (counted, expected)


def test_delayed_time_stands_still_while_the_vm_waits(run_pgvisor, bench):
    # "delayed" keeps its time, TSC and PIT alike, still while "busy" has
    # the CPU: no tick ever comes due while it waits, so its count agrees
    # with its TSC to a tick or two, and its time falls behind the host's
    # by the time it waited (the summary's "time held").
    cfgs = [write_cfg(bench, "delayed", "delay_for_missed_ticks"),
            write_cfg(bench, "busy", "no_delay_for_missed_ticks")]
    run = run_pgvisor(cfgs, timeout=150)
    tsc_hz = tsc_hz_of(run)
    ticks, tsc = ticks_and_tsc(run, "delayed")
    assert tsc >= SPAN_TSC
    expected = expected_ticks(tsc, tsc_hz)
    assert abs(ticks - expected) <= 3, (ticks, expected)
    switches = re.search(r"pgvisor: scheduler: (\d+) vCPU switches", run.output)
    assert switches and int(switches.group(1)) >= 100, run.output
    held = re.search(r"pgvisor:   vm delayed: time held (\d+) ms while waiting for a CPU "
                     r"\(delay_for_missed_ticks\)", run.output)
    assert held, run.output
    # "busy" spent its whole span of 3 s busy on the same CPU, half of it
    # while "delayed" waited: at least a second held.
    print(f"delayed: {ticks} ticks for {expected:.1f} periods of its TSC; "
          f"time held {held.group(1)} ms")
    assert 1000 <= int(held.group(1)) <= SPAN_TSC * 1000 // tsc_hz, held.group(0)
    assert "pgvisor:   vm busy: time held" not in run.output
    busy_ticks, busy_tsc = ticks_and_tsc(run, "busy")
    assert abs(busy_ticks - expected_ticks(busy_tsc, tsc_hz)) <= \
        0.01 * expected_ticks(busy_tsc, tsc_hz)
