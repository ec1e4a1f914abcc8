"A rebuild of the quick testbed from its seed reproduces the committed fingerprint of its kind of CPU (bits), or the reference's within the documented tolerance."
import json, tempfile
from pathlib import Path
import resm_nb.testbed as tbm
from resm_nb.testing import shared_cache, cpu_kind

REFERENCE = Path(__file__).parent / 'fingerprint_quick.json'     # the kind of CPU that made figures/

def committed() -> Path:
    "The fingerprint committed for this kind of CPU, else the reference."
    own = Path(__file__).parent / f'fingerprint_quick.{cpu_kind()}.json'
    return own if own.exists() else REFERENCE

def test_rebuild_matches_committed_fingerprint(quick_testbed):
    with tempfile.TemporaryDirectory() as cache:
        fresh = tbm.fingerprint(tbm.Testbed(tbm.TestbedConfig.quick(), 0, 0.0, cache, progress=False))
    ref = committed()
    # across machines: the documented tolerance (task-vector norms within 5%, dev scores within 0.1 on the small quick dev split)
    ok, what = tbm.same_fingerprint(fresh, json.loads(ref.read_text()), norm_rtol=0.05, dev_atol=0.1)
    print(f'against {ref.name} ({cpu_kind()}):', what)
    assert ok, (f"the quick testbed no longer reproduces {ref.name}: {what} (if intended: python tools/fingerprint.py; "
                f"for a new kind of CPU: python tools/fingerprint.py --this-cpu)")
    # on one machine a rebuild is bit-identical: the shared cache of this test run was built by another process
    shared = tbm.fingerprint(tbm.Testbed(tbm.TestbedConfig.quick(), 0, 0.0, shared_cache(), progress=False))
    assert tbm.same_fingerprint(fresh, shared) == (True, 'bit-identical')
