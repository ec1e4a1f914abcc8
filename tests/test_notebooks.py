"""Run every notebook's cells as tests (nbdev's `test_nb`), one pytest test per notebook.

Cells flagged with a `tst_flags` flag from settings.ini (`notest slow gpu`) are skipped, except `gpu`
cells when CUDA is available; `RESM_TEST_FLAGS="slow"` forces flagged cells to run.
"""
import os, re
from pathlib import Path
import pytest, torch
from nbdev.config import get_config
from nbdev.test import test_nb as run_notebook_tests

ROOT = Path(__file__).resolve().parent.parent
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))

def _flags():
    skip = set(get_config(path=ROOT).tst_flags.split())
    force = set(os.environ.get('RESM_TEST_FLAGS', '').split())
    if torch.cuda.is_available(): force.add('gpu')
    return sorted(skip - force)

# Notebooks that read the test run's shared testbed cache get it built first, in parallel (conftest.py's `quick_sweep`).
USES_CACHE = {p.stem for p in NBS if p.stem != '01_testing' and re.search(r'shared_cache\(\)|RESM_TEST_CACHE', p.read_text())}

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb, request):
    if nb.stem in USES_CACHE: request.getfixturevalue('quick_sweep')
    ok, secs = run_notebook_tests(nb, skip_flags=_flags(), basepath=ROOT)
    assert ok, f"{nb.name} failed (traceback above)"
