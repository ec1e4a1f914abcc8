"""`resm-3h run --quick` and `resm-3h figures --quick` end to end, as a user runs them (the console script).

Both use the test run's shared model cache (`RESM_TEST_CACHE`, set in conftest.py), as the testbed and figures
notebooks do, so the quick models are trained once per test run."""
import csv, json, os, shutil, subprocess, sys
from pathlib import Path
import pytest
from resm_nb.testing import shared_cache, TEST_SWEEP

EXE = shutil.which('resm-3h') or [sys.executable, '-c', 'import sys; from resm_nb.cli import main; sys.exit(main())']
FIGS = ['results_main', 'conflict_params', 'conflict_behaviour', 'outliers_noise', 'sparsity_profiles', 'noise_robustness', 'ablation_resm']
CACHE = shared_cache()

def cli(*args):
    cmd = ([EXE] if isinstance(EXE, str) else EXE) + list(map(str, args))
    return subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, HF_HUB_OFFLINE='1'))

@pytest.fixture(scope='module')
def quick(tmp_path_factory, quick_sweep):
    out = tmp_path_factory.mktemp('resm3h')
    r = cli('run', '--quick', '--out', out, '--cache', CACHE, '--no-progress')
    assert r.returncode == 0, r.stderr[-3000:]
    return out, r

def test_run_quick(quick):
    out, r = quick
    rows = list(csv.DictReader(open(out / 'results.csv')))
    assert list(rows[0])[:9] == ['model', 'kind', 'method', 'seed', 'noise', 'helpful', 'honest', 'harmless', 'mean']
    from resm_nb.registry import registered
    assert {x['method'] for x in rows if x['kind'] == 'merge'} == set(registered())
    assert [x['kind'] for x in rows].count('expert') == 3 and [x['kind'] for x in rows].count('mix') == 3
    for x in rows:
        s = [float(x[d]) for d in ('helpful', 'honest', 'harmless')]
        assert all(0 <= v <= 1 for v in s) and abs(float(x['mean']) - sum(s) / 3) < 1e-3
    assert 'sanity checks (noise 0)' in r.stdout and 'merge-resm' in r.stdout
    assert {x['method'] for x in rows if x['kind'] == 'merge-shared'} == set(registered())      # the second, labelled protocol
    assert all(x['weights'] for x in rows if x['kind'] == 'merge') and 'pref_mean' in rows[0] and 'margin_mean' in rows[0]
    assert 'regime check of the experts' in r.stdout and 'best merge − best mix' in r.stdout
    # the models are cached as HF folders with their tokenizer
    base = next(CACHE.glob('seed0-*')) / 'base'
    assert (base / 'config.json').exists() and (base / 'tokenizer.json').exists() and (base / 'model.safetensors').exists()

def test_bad_input(tmp_path):
    r = cli('run', '--quick', '--noise', '0.7', '--out', tmp_path / 'x')
    assert r.returncode == 1 and 'noise must be in [0, 0.5)' in r.stderr
    assert not (tmp_path / 'x' / 'results.csv').exists()
    r = cli('run', '--quick', '--seeds', '0', '--out', tmp_path / 'x')
    assert r.returncode == 1 and 'seeds must be at least 1' in r.stderr

def test_figures_quick(quick):
    out, _ = quick
    figdir = out / 'fig'
    before = (out / 'results.csv').read_bytes(), (out / 'results.csv').stat().st_mtime_ns
    r = cli('figures', '--quick', '--seeds', '1', '--noise', *TEST_SWEEP, '--out', out, '--cache', CACHE, '--figdir', figdir, '--no-progress')
    assert r.returncode == 0, r.stderr[-3000:]
    for stem in FIGS:
        for ext in ('pdf', 'png'): assert (figdir / f'{stem}.{ext}').stat().st_size > 1000, f'{stem}.{ext}'
    for t in ['results_main.csv', 'results_main.tex', 'results_claims.json', 'conflict_params.csv', 'noise_robustness.csv',
              'sparsity_profiles.csv', 'ablation_resm_variants.csv']:
        assert (figdir / t).stat().st_size > 0, t
    assert r'\textbf' in (figdir / 'results_main.tex').read_text()
    noise = {float(x['noise']) for x in csv.DictReader(open(figdir / 'noise_robustness.csv'))}
    assert noise == set(TEST_SWEEP)
    # `figures` never rewrites the results.csv of an earlier `run`
    assert ((out / 'results.csv').read_bytes(), (out / 'results.csv').stat().st_mtime_ns) == before

def test_unreadable_cache_is_named(quick, tmp_path):
    "A damaged model in the cache is one line naming its folder, not a traceback."
    out, _ = quick
    cache = tmp_path / 'cache'; shutil.copytree(CACHE, cache)
    for d in cache.glob('seed0-*/noise0-*'):                                # the cached results, so that the models are loaded again
        for f in ['results.json', 'linearity.json', 'rows', 'merges']:
            p = d / f
            if p.is_dir(): shutil.rmtree(p)
            elif p.exists(): p.unlink()
    st = next(cache.glob('seed0-*')) / 'base' / 'model.safetensors'
    st.write_bytes(st.read_bytes()[:-100])
    r = cli('run', '--quick', '--out', tmp_path / 'o', '--cache', cache, '--no-progress')
    assert r.returncode == 1 and 'the cached model cannot be read' in r.stderr and str(st.parent) in r.stderr, r.stderr[-2000:]
    assert 'Traceback' not in r.stderr, r.stderr[-2000:]
