"""Imports run one way: from the commands down to the merge library, never up, and without cycles."""
from modmap import ROOMS, modules, imports_of

RANK = {m: i for i, mods in enumerate(ROOMS.values()) for m in mods}

def test_every_module_has_a_room():
    assert sorted(RANK) == modules()

def test_imports_point_down_or_sideways():
    up = [(m, d) for m in modules() for d in imports_of(m) if RANK[d] > RANK[m]]
    assert not up, f"imports that point up a floor: {up}"

def test_no_import_cycles():
    seen, done = set(), set()
    def visit(m, path):
        assert m not in path, f"import cycle: {' -> '.join(path + [m])}"
        if m in done: return
        for d in imports_of(m): visit(d, path + [m])
        done.add(m)
    for m in modules(): visit(m, [])

def test_the_library_knows_nothing_of_the_testbed():
    lib = ROOMS['merge library']
    assert all(d in lib for m in lib for d in imports_of(m))
