import atexit, os, shutil, sys, tempfile
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
os.environ.setdefault('HF_HUB_OFFLINE', '1')
os.environ.setdefault('TRANSFORMERS_OFFLINE', '1')

# One testbed cache for the whole test run: the testbed and figures notebooks and the command-line tests train the
# quick models once (`resm_nb.testing.shared_cache` reads this variable). A cache given from outside is kept.
if 'RESM_TEST_CACHE' not in os.environ:
    _cache = tempfile.mkdtemp(prefix='resm3h-test-cache-')
    os.environ['RESM_TEST_CACHE'] = _cache
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)

import pytest

def _build_quick(noises) -> Path:
    "Build the quick testbeds of seed 0 at `noises` that the shared cache lacks, one process per core (`resm-3h`'s `build_all`)."
    from resm_nb.cli import build_all, default_jobs
    from resm_nb.testbed import TestbedConfig
    from resm_nb.testing import shared_cache
    build_all(TestbedConfig.quick(), [(0, p) for p in noises], shared_cache(), progress=False, log=lambda *a: None, jobs=default_jobs())
    return shared_cache()

# The quick models are trained on one thread each (their bits depend on the thread count), so a test that trains
# them in its own process leaves the other cores idle. These fixtures build them first, in parallel processes
# (seed 0, then the test run's noise sweep `TEST_SWEEP`, the sweep's two ends, that the figures need). The models
# are the same bits as a sequential build (tests/test_reproducible.py compares the two; 15_cli compares two
# parallel builds).
@pytest.fixture(scope='session')
def quick_testbed() -> Path:
    "The shared cache with the quick testbed of seed 0 at noise 0 built."
    return _build_quick((0.0,))

@pytest.fixture(scope='session')
def quick_sweep(quick_testbed) -> Path:
    "The shared cache with the quick testbeds of seed 0 at the noise levels of the test run's sweep built."
    from resm_nb.testing import TEST_SWEEP
    return _build_quick(TEST_SWEEP)
