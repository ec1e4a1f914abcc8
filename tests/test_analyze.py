"""`resm-analyze` as a user runs it: the console script end to end on tiny checkpoints, and nothing half-written on failure."""
import json, shutil, subprocess, sys
from pathlib import Path
import pytest, torch, yaml
from resm_nb.testing import tiny_llama

EXE = shutil.which('resm-analyze', path=str(Path(sys.executable).parent)) or shutil.which('resm-analyze')

def run(*args):
    return subprocess.run([EXE, *map(str, args), '--no-progress', '--device', 'cpu'], capture_output=True, text=True, timeout=600)

@pytest.fixture(scope='module')
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp('analyze')
    base = tiny_llama(d/'base', seed=0)
    for i, n in enumerate(['helpful', 'honest', 'harmless']): tiny_llama(d/n, seed=i + 1, base=base)
    (d/'a.yml').write_text(yaml.safe_dump({'merge_method': 'resm', 'base_model': str(d/'base'),
                                           'models': [{'model': str(d/n), 'name': n} for n in ['helpful', 'honest', 'harmless']]}))
    return d

def test_cli_writes_tables_summary_and_figures(models, tmp_path):
    r = run(models/'a.yml', tmp_path/'out')
    assert r.returncode == 0, r.stderr
    assert 'helpful–honest' in r.stdout and 'wrote' in r.stdout
    files = {p.name for p in (tmp_path/'out').iterdir()}
    assert {'conflict.csv', 'outliers.csv', 'sparsity.csv', 'histogram.csv', 'summary.json'} <= files
    assert {f'{n}.{e}' for n in ('conflict', 'outliers', 'profiles') for e in ('pdf', 'png')} <= files
    s = json.loads((tmp_path/'out'/'summary.json').read_text())
    assert list(s['experts']) == ['helpful', 'honest', 'harmless'] and len(s['pairs']) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ['out']               # no temporary folder or lock beside it
    r = run(models/'a.yml', tmp_path/'out', '--no-figures')
    assert r.returncode == 1 and 'not empty' in r.stderr and r.stderr.count('\n') == 1

def test_cli_bad_inputs_exit_1_and_leave_nothing(models, tmp_path):
    bad = yaml.safe_load((models/'a.yml').read_text())
    bad['models'][1]['model'] = str(models/'missing')
    (tmp_path/'b.yml').write_text(yaml.safe_dump(bad))
    r = run(tmp_path/'b.yml', tmp_path/'out')
    assert r.returncode == 1 and 'no such checkpoint folder' in r.stderr and r.stderr.count('\n') == 1
    assert not (tmp_path/'out').exists() and not list(tmp_path.glob('.out*'))
    r = run(models/'a.yml', models/'base'/'analysis')
    assert r.returncode == 1 and 'lies inside the input base_model' in r.stderr
    assert not (models/'base'/'analysis').exists()
