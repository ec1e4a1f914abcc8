"""The library, the notebooks and README.md must be in sync with what the tools would write."""
import filecmp, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

def _tree(d:Path) -> dict:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob('*'))
            if p.is_file() and '__pycache__' not in p.parts and '.ipynb_checkpoints' not in p.parts}

@pytest.fixture(scope='module')
def fresh(tmp_path_factory):
    "A copy of the project in which nbdev_export and nbdev_clean have been run."
    d = tmp_path_factory.mktemp('sync')
    for name in ['settings.ini', 'setup.py', 'README.md']: shutil.copy(ROOT/name, d/name)
    for name in ['nbs', 'resm_nb']: shutil.copytree(ROOT/name, d/name, ignore=shutil.ignore_patterns('__pycache__', '.ipynb_checkpoints'))
    bindir = Path(sys.executable).parent
    for tool in ['nbdev_export', 'nbdev_clean']:
        exe = shutil.which(tool, path=str(bindir)) or shutil.which(tool)
        r = subprocess.run([exe], cwd=d, capture_output=True, text=True)
        assert r.returncode == 0, f"{tool} failed: {r.stderr[-2000:]}"
    return d

@pytest.mark.parametrize('folder', ['resm_nb', 'nbs'])
def test_export_and_clean_change_nothing(fresh, folder):
    before, after = _tree(ROOT/folder), _tree(fresh/folder)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, (f"nbdev_export/nbdev_clean would change {changed} in {folder}/: run them and commit")

def test_readme_is_generated_from_index():
    from make_readme import render_readme
    assert (ROOT/'README.md').read_text() == render_readme(), "README.md is stale: run `python tools/make_readme.py`"
