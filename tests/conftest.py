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
