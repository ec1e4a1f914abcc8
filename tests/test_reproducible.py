"A rebuild of the quick testbed from its seed reproduces the committed fingerprint (bits, or the documented tolerance)."
import json, tempfile
from pathlib import Path
import resm_nb.testbed as tbm
from resm_nb.testing import shared_cache

COMMITTED = Path(__file__).parent / 'fingerprint_quick.json'

def test_rebuild_matches_committed_fingerprint():
    with tempfile.TemporaryDirectory() as cache:
        fresh = tbm.fingerprint(tbm.Testbed(tbm.TestbedConfig.quick(), 0, 0.0, cache, progress=False))
    # across machines: the documented tolerance (task-vector norms within 5%, dev scores within 0.1 on the small quick dev split)
    ok, what = tbm.same_fingerprint(fresh, json.loads(COMMITTED.read_text()), norm_rtol=0.05, dev_atol=0.1)
    print('against the committed fingerprint:', what)
    assert ok, f"the quick testbed no longer reproduces {COMMITTED.name}: {what} (if intended: python tools/fingerprint.py)"
    # on one machine a rebuild is bit-identical: the shared cache of this test run was built by another process
    shared = tbm.fingerprint(tbm.Testbed(tbm.TestbedConfig.quick(), 0, 0.0, shared_cache(), progress=False))
    assert tbm.same_fingerprint(fresh, shared) == (True, 'bit-identical')
