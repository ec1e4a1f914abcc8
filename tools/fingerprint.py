"""Write tests/fingerprint_quick.json: the fingerprint of the quick testbed (seed 0), rebuilt from scratch.

Run after a change that is meant to change the testbed's models (and bump TESTBED_VERSION):
    python tools/fingerprint.py
"""
import json, sys, tempfile
from pathlib import Path
from resm_nb.testbed import Testbed, TestbedConfig, fingerprint

def main():
    with tempfile.TemporaryDirectory() as cache:
        fp = fingerprint(Testbed(TestbedConfig.quick(), 0, 0.0, cache, progress=False))
    out = Path(__file__).resolve().parent.parent / 'tests' / 'fingerprint_quick.json'
    out.write_text(json.dumps(fp, indent=1) + '\n')
    print(f'wrote {out}')

if __name__ == '__main__': sys.exit(main())
