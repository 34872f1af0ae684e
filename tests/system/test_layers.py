"""scripts/check-layers: the tree is layered, and the checker catches an
include that goes up a layer and a circle of includes, naming the chain."""
import subprocess

from conftest import ROOT

CHECK = ROOT / "scripts" / "check-layers"


def check(root):
    return subprocess.run([str(CHECK), str(root)], capture_output=True, text=True)


def write(root, path, text):
    p = root / path
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)


def test_the_tree_is_layered():
    r = check(ROOT)
    assert r.returncode == 0, r.stdout
    assert "layers and includes are clean" in r.stdout


def test_an_include_up_a_layer_is_refused(tmp_path):
    write(tmp_path, "vmm/vm/vm.h", "struct vm;\n")
    write(tmp_path, "vmm/dev/uart.c", '#include "vmm/vm/vm.h"\n')
    write(tmp_path, "vmm/vm/vm.c", '#include "vmm/vm/vm.h"\n')
    r = check(tmp_path)
    assert r.returncode == 1
    assert ("vmm/dev/uart.c:1: vmm/dev/uart.c (vmm/dev) includes vmm/vm/vm.h (vmm/vm), "
            "a layer above it") in r.stdout
    assert "1 problem(s)" in r.stdout


def test_a_circle_is_refused_with_its_chain(tmp_path):
    # Three modules of one layer, each including the next: no layer is
    # crossed, but they form a circle.
    write(tmp_path, "vmm/core/a.h", "")
    write(tmp_path, "vmm/core/b.h", "")
    write(tmp_path, "vmm/core/c.h", "")
    write(tmp_path, "vmm/core/a.c", '#include "vmm/core/a.h"\n#include "vmm/core/b.h"\n')
    write(tmp_path, "vmm/core/b.c", '#include "vmm/core/c.h"\n')
    write(tmp_path, "vmm/core/c.c", '\n#include "vmm/core/a.h"\n')
    r = check(tmp_path)
    assert r.returncode == 1
    assert ("include cycle: vmm/core/a (vmm/core/a.c:2) -> vmm/core/b (vmm/core/b.c:1) -> "
            "vmm/core/c (vmm/core/c.c:2) -> vmm/core/a") in r.stdout


def test_guests_see_only_the_abi(tmp_path):
    write(tmp_path, "vmm/abi/hypercall_abi.h", "")
    write(tmp_path, "vmm/vm/vm.h", "")
    write(tmp_path, "guest/x/x.c", '#include "vmm/abi/hypercall_abi.h"\n#include "vmm/vm/vm.h"\n')
    r = check(tmp_path)
    assert r.returncode == 1
    assert "guest/x/x.c:2: a guest program includes vmm/vm/vm.h" in r.stdout
    assert "1 problem(s)" in r.stdout


def test_a_file_outside_every_layer_is_named(tmp_path):
    write(tmp_path, "vmm/newthing/x.h", "")
    write(tmp_path, "vmm/core/y.c", '#include "vmm/newthing/x.h"\n')
    r = check(tmp_path)
    assert r.returncode == 1
    assert ("vmm/core/y.c:1: vmm/newthing/x.h is in no layer (add its folder to LAYERS in "
            "scripts/check-layers)") in r.stdout
