"""The `resm-merge` command on tiny checkpoints: single and sharded, fp32 and bf16, against the in-memory
methods; and a merge killed with SIGKILL leaves nothing at OUT."""
import os, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch, yaml
from resm_nb.io import Checkpoint
from resm_nb.testing import tiny_llama, tiny_llama_config
from resm_nb.driver import merge_state_dicts

EXE = shutil.which('resm-merge', path=str(Path(sys.executable).parent)) or shutil.which('resm-merge')

def _cli(*args):
    return subprocess.run([EXE, *map(str, args), '--no-progress'], capture_output=True, text=True, timeout=600)

@pytest.fixture(scope='module')
def models(tmp_path_factory):
    d = tmp_path_factory.mktemp('models')
    out = {}
    for dtype, shard in [(torch.float32, None), (torch.bfloat16, '2KB')]:
        tag = str(dtype).split('.')[-1]
        base = tiny_llama(d/f'{tag}-base', dtype=torch.float32)
        for i in range(3): tiny_llama(d/f'{tag}-e{i}', seed=10 + i, base=base, dtype=dtype, shard_size=shard)
        if dtype == torch.bfloat16: tiny_llama(d/f'{tag}-base', dtype=dtype, shard_size=shard)  # re-save the base in bf16
        out[tag] = [d/f'{tag}-base'] + [d/f'{tag}-e{i}' for i in range(3)]
    return d, out

@pytest.mark.parametrize('tag', ['float32', 'bfloat16'])
@pytest.mark.parametrize('method,params', [('resm', {}), ('tsvm', {'alpha': 0.8}), ('ties', {'density': 0.4}),
                                           ('dare_linear', {'density': 0.6, 'seed': 1}), ('linear', {})])
def test_cli_matches_in_memory(models, tmp_path, tag, method, params):
    d, paths = models[0], models[1][tag]
    cfg = {'merge_method': method, 'base_model': str(paths[0]), 'models': [str(p) for p in paths[1:]], 'parameters': params}
    (tmp_path/'m.yml').write_text(yaml.safe_dump(cfg))
    r = _cli(tmp_path/'m.yml', tmp_path/'out')
    assert r.returncode == 0, r.stderr
    assert 'merged' in r.stdout and 'peak RSS' in r.stdout
    sds = [Checkpoint(p).state_dict() for p in paths]
    want = merge_state_dicts(method, sds[0], sds[1:], **params).tensor
    got = Checkpoint(tmp_path/'out')
    assert set(got.keys()) == set(want)
    for k, v in want.items():
        assert got.info(k).dtype == v.dtype and torch.equal(got[k], v), k

def test_cli_bad_inputs_exit_nonzero_and_leave_nothing(models, tmp_path):
    d, paths = models
    cases = [({'merge_method': 'resm', 'base_model': str(paths['float32'][0]), 'models': [str(d/'nowhere')]}, 'no such checkpoint folder'),
             ({'merge_method': 'resm', 'base_model': str(paths['float32'][0]), 'models': [str(p) for p in paths['float32'][1:]],
               'parameters': {'rank': 'magic'}}, "parameter 'rank' must be one of"),
             ({'merge_method': 'nope', 'base_model': 'x', 'models': ['y']}, "unknown merge method 'nope'")]
    for i, (cfg, msg) in enumerate(cases):
        (tmp_path/f'{i}.yml').write_text(yaml.safe_dump(cfg))
        r = _cli(tmp_path/f'{i}.yml', tmp_path/f'out{i}')
        assert r.returncode == 1 and msg in r.stderr and r.stderr.startswith('resm-merge: error:'), r.stderr
        assert not (tmp_path/f'out{i}').exists() and not list(tmp_path.glob(f'.out{i}.tmp-*'))

def test_sigkill_mid_merge_leaves_nothing_at_out(tmp_path):
    cfg_model = tiny_llama_config(vocab_size=512, hidden=192, layers=6, heads=4, kv_heads=4, inter=512)
    base = tiny_llama(tmp_path/'base', config=cfg_model)
    for i in range(3): tiny_llama(tmp_path/f'e{i}', seed=i + 1, base=base)
    (tmp_path/'m.yml').write_text(yaml.safe_dump({'merge_method': 'tsvm', 'base_model': 'base', 'models': ['e0', 'e1', 'e2']}))
    p = subprocess.Popen([EXE, str(tmp_path/'m.yml'), str(tmp_path/'out'), '--no-progress', '--threads', '1'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not list(tmp_path.glob('.out.tmp-*')) and p.poll() is None and time.time() - t0 < 120: time.sleep(0.002)
    p.send_signal(signal.SIGKILL); p.wait()
    assert p.returncode == -signal.SIGKILL, "the merge finished before it could be killed; make the model bigger"
    assert not (tmp_path/'out').exists()
    assert list(tmp_path.glob('.out.tmp-*'))                      # a killed process cannot clean up ...
    r = _cli(tmp_path/'m.yml', tmp_path/'out')                   # ... the next merge to OUT removes its leftovers
    assert r.returncode == 0, r.stderr
    assert not list(tmp_path.glob('.out.tmp-*')) and (tmp_path/'out'/'model.safetensors').exists()

@pytest.fixture(scope='module')
def mid_models(tmp_path_factory):
    "A base and three experts big enough that a TSV-M merge takes a few seconds."
    d = tmp_path_factory.mktemp('mid')
    base = tiny_llama(d/'base', config=tiny_llama_config(vocab_size=512, hidden=192, layers=6, heads=4, kv_heads=4, inter=512))
    for i in range(3): tiny_llama(d/f'e{i}', seed=i + 1, base=base)
    (d/'m.yml').write_text(yaml.safe_dump({'merge_method': 'tsvm', 'base_model': 'base', 'models': ['e0', 'e1', 'e2']}))
    return d

def _complete(out, models):
    "Whether `out` holds a whole merged model (every tensor of the base, and the merge record)."
    return set(Checkpoint(out).keys()) == set(Checkpoint(models/'base').keys()) and (out/'resm_merge.yml').exists()

def test_two_merges_to_one_out(mid_models, tmp_path):
    "Two runs racing for one OUT: exactly one writes it, the other fails with one line; nothing is left behind."
    out = tmp_path/'out'
    ps = [subprocess.Popen([EXE, str(mid_models/'m.yml'), str(out), '--no-progress', '--threads', '1'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True) for _ in range(2)]
    res = [(p.wait(), p.stderr.read()) for p in ps]
    assert sorted(rc for rc, _ in res) == [0, 1], res
    err = next(e for rc, e in res if rc == 1)
    assert 'another run' in err or 'is not empty' in err, err
    assert _complete(out, mid_models)
    assert [p.name for p in tmp_path.iterdir()] == ['out']            # no lock, no temporary folder

def test_kill_at_random_points(mid_models, tmp_path):
    "SIGKILL at seeded random moments: OUT is absent or complete, and the next run cleans up and succeeds."
    import random
    rng = random.Random(0)
    for i in range(3):
        out = tmp_path/f'out{i}'
        p = subprocess.Popen([EXE, str(mid_models/'m.yml'), str(out), '--no-progress', '--threads', '1'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 4.0))
        p.send_signal(signal.SIGKILL); p.wait()
        assert not out.exists() or _complete(out, mid_models), f'kill {i}: a half-written output'
        if out.exists(): shutil.rmtree(out)
        r = _cli(mid_models/'m.yml', out)
        assert r.returncode == 0, r.stderr
        assert _complete(out, mid_models) and sorted(x.name for x in tmp_path.iterdir() if x.name.startswith(f'.out{i}.')) == []

def test_sigterm_mid_merge_cleans_up(mid_models, tmp_path):
    "SIGTERM (timeout, kill, a batch scheduler) mid-merge: one line, status 143, no output, no lock, no temporary folder."
    out = tmp_path/'out'
    p = subprocess.Popen([EXE, str(mid_models/'m.yml'), str(out), '--no-progress', '--threads', '1'],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not list(tmp_path.glob('.out.tmp-*')) and p.poll() is None and time.time() - t0 < 120: time.sleep(0.002)
    p.send_signal(signal.SIGTERM)
    err = p.communicate(timeout=120)[1]
    assert p.returncode == 143, (p.returncode, err)
    assert err.strip().splitlines()[-1].startswith('resm-merge: terminated'), err
    assert list(tmp_path.iterdir()) == []                             # no OUT, no .out.lock, no .out.tmp-*

def test_closed_pipe_ends_quietly(models, tmp_path):
    "`resm-merge ... | head -0`: the merge is written, the report's print meets a closed pipe: no traceback, status 141."
    paths = models[1]['float32']
    (tmp_path/'m.yml').write_text(yaml.safe_dump({'merge_method': 'task_arithmetic', 'base_model': str(paths[0]), 'models': [str(p) for p in paths[1:]]}))
    p = subprocess.Popen([EXE, str(tmp_path/'m.yml'), str(tmp_path/'out'), '--no-progress'], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdout.close()
    err = p.stderr.read(); p.wait(timeout=300)
    assert p.returncode == 141 and 'Traceback' not in err and 'error' not in err and 'Broken pipe' not in err, (p.returncode, err)
    assert (tmp_path/'out'/'model.safetensors').exists()
