"""The Popek-Goldberg lab: guest/pglab bare (its results pinned to what the
SDM says), under pgvisor's trap policies (which forms exit, and that
emulated ones still match bare), two runs giving identical tables, and
scripts/lab's report logic on its own."""
import json

import pytest

from conftest import ROOT
from test_scripts import load_script

LAB = load_script(ROOT / "scripts" / "lab")
VEC_UD, VEC_GP = 6, 13
EXIT_GDTR_IDTR, EXIT_LDTR_TR = 46, 47
CR0_PE, CR0_ET = 0x1, 0x10
DESCRIPTOR_FORMS = ("sgdt", "sidt", "sldt", "str", "lgdt", "lidt", "lldt", "ltr")


def results(lines):
    records = LAB.parse_console("\n".join(lines))
    table = LAB.form_table(records)
    assert len(table) == 2 * records[0]["forms"], "every form at CPL 0 and CPL 3"
    return table


def fault(rec):
    f = rec["fault"]
    return None if f is None else (f["vector"], f["error"])




@pytest.fixture
def bare(boot_bare):
    run = boot_bare("pglab", "mb2", "bochs", expect_line="^pglab: end$", timeout=120)
    assert run.status == 0, run.output
    return run


def test_bare_matches_the_sdm(bare):
    r = results(bare.lines)
    # SMSW is unprivileged: CR0 bits 15:0 at any CPL (SDM Vol. 2 SMSW).
    cr0 = int(r["mov_from_cr0", 0]["eax"], 16)
    assert cr0 & (CR0_PE | CR0_ET) == CR0_PE | CR0_ET
    for cpl in (0, 3):
        assert fault(r["smsw", cpl]) is None
        assert int(r["smsw", cpl]["eax"], 16) == cr0 & 0xffff
    # SGDT/SIDT without UMIP: the GDTR/IDTR at CPL 3 too (Robin & Irvine).
    assert fault(r["sgdt", 3]) is None and r["sgdt", 3]["mem"] == r["sgdt", 0]["mem"]
    assert r["sidt", 3]["mem"] == r["sidt", 0]["mem"]
    assert r["str", 3]["eax"] == "0x00000028" and r["sldt", 3]["eax"] == "0x00000038"
    # Privileged instructions: #GP(0) at CPL 3.
    for form in ("mov_from_cr0", "mov_to_cr0", "mov_to_cr3", "lgdt", "lidt", "ltr", "rdmsr",
                 "wrmsr", "in", "out", "hlt", "cli", "invlpg", "wbinvd", "mov_from_dr7"):
        assert fault(r[form, 3]) == (VEC_GP, 0), form
    # POPF and IRET silently keep IOPL at CPL 3; PUSH CS shows the CPL.
    assert r["popf_iopl", 0]["eax"] == "0x00003000" and r["popf_iopl", 3]["eax"] == "0x00000000"
    assert r["popf_if", 3]["eax"] == "0x00000000" and r["iret", 3]["eax"] == "0x00000000"
    assert r["push_cs", 3]["eax"] == "0x0000001b"
    # LAR/VERR of a DPL-0 segment: ZF = 0 at CPL 3, no fault.
    assert r["lar", 0]["ebx"] == "0x00000001" and r["lar", 3]["ebx"] == "0x00000000"
    assert r["verr", 3]["ebx"] == "0x00000000"
    # Segment loads and far transfers check privilege: #GP(selector).
    assert fault(r["mov_to_ds", 3]) == (VEC_GP, 0x10)
    assert fault(r["far_call", 3]) == (VEC_GP, 0x08)
    # INT n through a DPL-0 gate: #GP(vector * 8 + 2) (IDT, EXT = 0).
    assert fault(r["int_kernel_gate", 3]) == (VEC_GP, 0x82 * 8 + 2)
    assert fault(r["int_user_gate", 3]) is None
    # Without VMX VMCALL is #UD; CR8 has no 32-bit encoding.
    assert fault(r["vmcall", 0]) == (VEC_UD, 0)
    assert fault(r["mov_from_cr8", 0]) == (VEC_UD, 0)
    assert fault(r["rdtsc", 3]) is None


def test_trap_policies_pick_the_exits(bare, run_pgvisor):
    run = run_pgvisor(["configs/lab/minimal.cfg", "configs/lab/descriptor-tables.cfg"],
                      timeout=300)
    assert run.status == 0, run.output
    assert "pgvisor: vm pglab-dt: traps descriptor-tables" in run.output
    b = results(bare.lines)
    minimal, dt = results(run.vm_lines("pglab")), results(run.vm_lines("pglab-dt"))
    for form in DESCRIPTOR_FORMS:
        reason = EXIT_GDTR_IDTR if form in ("sgdt", "sidt", "lgdt", "lidt") else EXIT_LDTR_TR
        # Under minimal SGDT & co. run natively; with the trap they exit.
        assert str(reason) not in minimal[form, 0]["exits"], form
        assert dt[form, 0]["exits"].get(str(reason), 0) >= 1, form
        # Emulated or native, the guest sees the bare machine's result.
        for cpl in (0, 3):
            assert LAB.outcome(dt[form, cpl]) == LAB.outcome(b[form, cpl]), (form, cpl)
            assert LAB.outcome(minimal[form, cpl]) == LAB.outcome(b[form, cpl]), (form, cpl)
    assert minimal["sgdt", 3]["exits"] == {}
    assert dt["sgdt", 3]["exits"] == {str(EXIT_GDTR_IDTR): 1}


def test_two_runs_give_identical_tables(bare, run_pgvisor, tmp_path):
    tables = []
    for attempt in range(2):
        run = run_pgvisor(["configs/lab/all.cfg"], timeout=300)
        assert run.status == 0, run.output
        out = tmp_path / str(attempt)
        (out / "logs").mkdir(parents=True)
        (out / "logs" / "bare.log").write_text(bare.output)
        (out / "logs" / "all.log").write_text(run.output)
        LAB.report(out)
        tables.append(((out / "pg-table.md").read_text(), (out / "pg-chart.svg").read_text()))
    assert tables[0] == tables[1]
    assert "UNEXPLAINED" not in tables[0][0]
    assert "| all | 124 | 118 | 30 of 61 | holds |" in tables[0][0]
    # Emulated UMIP: CPUID offers it (Bochs' Haswell has none), SGDT and STR
    # fault at CPL 3; SMSW cannot be trapped.
    assert LAB.parse_console("\n".join(run.vm_lines("pglab")))[0]["umip"] is True
    assert LAB.parse_console("\n".join(bare.lines))[0]["umip"] is False
    r = results(run.vm_lines("pglab"))
    assert fault(r["sgdt_umip", 3]) == (VEC_GP, 0) and fault(r["str_umip", 3]) == (VEC_GP, 0)
    assert fault(r["sgdt_umip", 0]) is None and fault(r["smsw_umip", 3]) is None
    assert fault(results(bare.lines)["sgdt_umip", 3]) is None


def test_read_outside_ram_bare_and_under_each_setting(bare, run_pgvisor, bench):
    """The lab's read_unbacked form: all-ones bare and with pgvisor's
    default, the VM stopped with on_unbacked = "crash"."""
    ignore = bench.dir / "ignore.cfg"
    ignore.write_text('name = "pglab"\nkernel = "../../guests/pglab.elf"\nmemory = 8\n'
                      'cmdline = "only=read_unbacked"\n')
    run = run_pgvisor([str(ignore.relative_to(ROOT)), "configs/lab/strict.cfg"], timeout=120)
    b = results(bare.lines)
    default = LAB.form_table(LAB.parse_console("\n".join(run.vm_lines("pglab"))))
    assert sorted(default) == [("read_unbacked", 0), ("read_unbacked", 3)], run.output
    strict = "\n".join(run.vm_lines("pglab-strict") + run.lines_with_prefix("pgvisor: vm "))
    rows = LAB.unbacked_rows(b, {"default": default}, strict)
    ignore_text = 'default (on_unbacked "ignore")'
    assert rows[:4] == [("bare", 0, "ok eax=0xffffffff"), ("bare", 3, "ok eax=0xffffffff"),
                        (ignore_text, 0, "ok eax=0xffffffff, EPT violation (48)"),
                        (ignore_text, 3, "ok eax=0xffffffff, EPT violation (48)")], rows
    assert len(rows) == 5 and rows[4][:2] == ('default (on_unbacked "crash")', 0), rows
    assert rows[4][2].startswith("VM stopped: EPT violation: read of guest-physical 0xc0000000 "
                                 "(outside its RAM of 8192 KiB)"), rows
    assert "pgvisor: vm pglab: unbacked read of guest-physical 0xc0000000 (outside its RAM of " \
           "8192 KiB): reads all-ones, writes dropped; reported once" in run.lines


def record(form, cpl, fault=None, exits=None, **outputs):
    rec = {"form": form, "cpl": cpl, "class": "privileged", "fault": fault, **outputs}
    if exits is not None:
        rec["exits"] = exits
    return rec


def test_report_logic():
    console = "\n".join([
        "GRUB noise {not json}", "[vm] pglab: begin",
        '[vm] {"pglab":1,"env":"pgvisor","forms":2}',
        '[vm] {"form":"a","cpl":0,"class":"privileged","fault":null,"eax":"0x1","exits":{"10":1}}',
        "[vm] pglab: end", '{"form":"after","cpl":0}'])
    recs = LAB.parse_console(console)
    assert [r.get("form") for r in recs] == [None, "a"]
    bare = {("a", 0): record("a", 0, eax="0x1"), ("b", 3): record("b", 3, {"vector": 13,
                                                                           "error": 0})}
    virt = {("a", 0): record("a", 0, eax="0x2", exits={"10": 1}),
            ("b", 3): record("b", 3, {"vector": 13, "error": 0}, exits={})}
    a = LAB.analyse(bare, {"p": virt})["p"]
    assert [d["form"] for d in a["diffs"]] == ["a"] and a["diffs"][0]["why"] is None
    v = LAB.verdict(a["rows"])
    assert v["holds"] and v["equivalent"] == 1 and v["trapped_cpl0"] == 1
    # Differing without an exit breaks the property.
    virt[("a", 0)]["exits"] = {}
    assert LAB.verdict(LAB.analyse(bare, {"p": virt})["p"]["rows"])["violations"] == [("a", 0)]
    # CPUID differences name the bits.
    why = LAB.explain("cpuid1", {"fault": None, "ecx": "0x28", "edx": "0x0"},
                      {"fault": None, "ecx": "0x80000008", "edx": "0x0"})
    assert "ECX sets hypervisor" in why and "ECX hides VMX" in why
    assert LAB.describe(record("x", 3, {"vector": 13, "error": 16})) == "#GP(0x10)"
    summary = LAB.parse_summary(
        "pgvisor:   vm v: exits total=5 cpuid=3 io=2\n"
        "pgvisor:   vm v: ticks guest=100 hypervisor=300 (75.0% in the hypervisor)\n"
        "pgvisor:   vm v: ticks per exit cpuid=40 io=90\n")
    row = LAB.efficiency_rows({"w": summary})[0]
    assert row["exits"] == 5 and row["share"] == 75.0 and row["per_exit"] == "cpuid 40, io 90"
    json.dumps(row)
    # The recursion row: the suite's lines behind two prefixes (pgvisor
    # under pgvisor), compared with bare and with one level.
    nested = LAB.form_table(LAB.parse_console(
        "[pglab-l2] [pglab] pglab: begin\n"
        '[pglab-l2] [pglab] {"form":"a","cpl":0,"class":"privileged","fault":null,'
        '"eax":"0x2","exits":{}}\n'
        '[pglab-l2] [pglab] {"form":"b","cpl":3,"class":"privileged","fault":{"vector":13,'
        '"error":0},"exits":{}}\n[pglab-l2] [pglab] pglab: end'))
    n, same_bare, same_one, apart = LAB.recursion(bare, virt, nested)
    assert (n, same_bare, same_one, apart) == (2, 1, 2, [])
    nested[("b", 3)]["fault"] = None
    assert LAB.recursion(bare, virt, nested)[3] == ["b@CPL3: ok (one level: #GP(0x0))"]
