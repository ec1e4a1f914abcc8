"""Write tests/fingerprint_quick.json: the fingerprint of the quick testbed (seed 0), rebuilt from scratch.

Run after a change that is meant to change the testbed's models (and bump TESTBED_VERSION):
    python tools/fingerprint.py
The testbed is bit-reproducible on one kind of CPU only (`resm_nb.testing.cpu_kind`). On a kind whose rebuild falls
outside the documented tolerance of the reference (the kind that made figures/), record that kind's own fingerprint,
which tests/test_reproducible.py then compares with instead (after a models-changing change, rebuild both):
    python tools/fingerprint.py --this-cpu      # tests/fingerprint_quick.<cpu kind>.json
"""
import argparse, json, sys, tempfile
from pathlib import Path
from resm_nb.testbed import Testbed, TestbedConfig, fingerprint
from resm_nb.testing import cpu_kind

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--this-cpu', action='store_true', help="write this kind of CPU's own fingerprint, not the reference")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        fp = fingerprint(Testbed(TestbedConfig.quick(), 0, 0.0, cache, progress=False))
    name = f'fingerprint_quick.{cpu_kind()}.json' if a.this_cpu else 'fingerprint_quick.json'
    out = Path(__file__).resolve().parent.parent / 'tests' / name
    out.write_text(json.dumps(fp, indent=1) + '\n')
    print(f'wrote {out}')

if __name__ == '__main__': sys.exit(main())
