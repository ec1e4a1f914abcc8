"""Equality with the peers, mergekit 0.1.5 and FusionBench 0.2.33, on the same inputs.

The peers are not runtime requirements: they live in a separate virtualenv whose Python is named by
`RESM_PEER_PYTHON` (`.ci/run` makes one). Without it these tests are skipped. Inputs are written to a
file, the peer computes its merge in its own process, and the results are compared here.
"""
import os, subprocess, textwrap
from pathlib import Path
import pytest, torch
from resm_nb.driver import merge_tensor, merge_state_dicts

PEER = os.environ.get('RESM_PEER_PYTHON')
pytestmark = pytest.mark.skipif(not PEER or not Path(PEER).exists(), reason='RESM_PEER_PYTHON (a venv with mergekit and fusion-bench) not set')

def run_peer(tmp_path, script, inputs):
    torch.save(inputs, tmp_path/'in.pt')
    (tmp_path/'peer.py').write_text(textwrap.dedent(script))
    env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONPATH='')
    r = subprocess.run([PEER, str(tmp_path/'peer.py'), str(tmp_path/'in.pt'), str(tmp_path/'out.pt')],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    return torch.load(tmp_path/'out.pt')

def _inputs(seed=0, shapes=((12, 10), (7, 9), (10,), (3, 3, 2))):
    g = torch.Generator().manual_seed(seed)
    out = []
    for sh in shapes:
        b = torch.randn(sh, generator=g)
        out.append((b, [b + 0.1 * torch.randn(sh, generator=g) * (1 + 3 * (torch.rand(sh, generator=g) < 0.05)) for _ in range(3)]))
    return out

MERGEKIT_CASES = [
    ('linear', dict(weight=[0.2, 0.5, 0.3])),
    ('linear', dict(weight=[1.0, 2.0, 1.0], normalize=False)),
    ('task_arithmetic', dict(weight=[0.5, 1.0, 0.7], **{'lambda': 0.8})),
    ('task_arithmetic', dict(weight=[1.0, 1.0, 1.0], normalize=True)),
    ('ties', dict(weight=[1.0, 0.6, 0.9], density=[0.5, 0.3, 0.8])),
    ('ties', dict(weight=[1.0, 1.0, 1.0], density=0.2, normalize=False, **{'lambda': 1.3})),
    ('ties', dict(weight=[1.0, 0.5, 1.0], density=0.4, rescale=True)),
    ('breadcrumbs', dict(weight=[1.0, 0.6, 0.9], density=0.6, gamma=0.05)),
    ('breadcrumbs_ties', dict(weight=[1.0, 1.0, 1.0], density=[0.5, 0.7, 0.9], gamma=[0.1, 0.02, 0.0])),
    ('dare_linear', dict(weight=[0.3, 0.3, 0.4], density=1.0)),
    ('dare_ties', dict(weight=[0.3, 0.3, 0.4], density=1.0, normalize=True)),
]

MERGEKIT_SCRIPT = """
import sys, torch
from mergekit.merge_methods import merge_tensors
cases, groups = torch.load(sys.argv[1])
out = []
for name, params in cases:
    res = []
    for base, experts in groups:
        if name == 'linear': res.append(merge_tensors(experts, name, parameters=params))   # linear has no base
        else: res.append(merge_tensors([base] + experts, name, parameters=params, base_index=0))
    out.append(res)
torch.save(out, sys.argv[2])
"""

def test_mergekit_methods_match(tmp_path):
    groups = _inputs()
    theirs = run_peer(tmp_path, MERGEKIT_SCRIPT, ([(n, p) for n, p in MERGEKIT_CASES], groups))
    for (name, params), res in zip(MERGEKIT_CASES, theirs):
        for (base, experts), want in zip(groups, res):
            got = merge_tensor(name, base, experts, **params).tensor
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5, msg=lambda m: f"{name} {params}: {m}")

def test_mergekit_dare_matches_in_distribution(tmp_path):
    "mergekit's DARE draws from the global RNG, so only its distribution can be compared: mean and spread over draws."
    g = torch.Generator().manual_seed(1)
    base = torch.zeros(64, 64); experts = [torch.randn(64, 64, generator=g) for _ in range(2)]
    script = """
    import sys, torch
    from mergekit.merge_methods import merge_tensors
    base, experts = torch.load(sys.argv[1])
    torch.manual_seed(0)
    torch.save(torch.stack([merge_tensors([base] + experts, 'dare_linear', parameters={'weight': 1.0, 'density': 0.4}, base_index=0)
                            for _ in range(200)]), sys.argv[2])
    """
    theirs = run_peer(tmp_path, script, (base, experts))
    ours = torch.stack([merge_tensor('dare_linear', base, experts, density=0.4, seed=s).tensor for s in range(200)])
    # each mean of N = 200 draws has sd sqrt(Σ τᵢ² (1 − p) / p / N); their difference √2 times that
    sd = (sum(e ** 2 for e in experts) * (1 - 0.4) / 0.4 / 200).sqrt()
    assert ((ours.mean(0) - theirs.mean(0)).abs() <= 6 * 2 ** 0.5 * sd + 1e-4).all()
    torch.testing.assert_close(ours.std(0).mean(), theirs.std(0).mean(), atol=0, rtol=0.05)

FUSION_SCRIPT = """
import sys, torch
from fusion_bench.method.task_singular_vector.utils.TSVM_utils import compute_and_sum_svd_mem_reduction
from fusion_bench.method.ties_merging.ties_merging_utils import ties_merging
taus, exclude, dens = torch.load(sys.argv[1])
tsvm = compute_and_sum_svd_mem_reduction(taus, exclude_keys=exclude, accelerator='cpu')
flat = torch.stack([torch.cat([t[k].reshape(-1) for k in taus[0]]) for t in taus])
ties = ties_merging(flat, reset_thresh=dens, merge_func='mean')
torch.save((tsvm, ties), sys.argv[2])
"""

def test_fusion_bench_tsvm_and_global_ties_match(tmp_path):
    g = torch.Generator().manual_seed(2)
    shapes = {'model.layers.0.self_attn.q_proj.weight': (16, 16), 'model.layers.0.mlp.up_proj.weight': (24, 16),
              'model.layers.0.mlp.down_proj.weight': (16, 24), 'model.embed_tokens.weight': (40, 16),
              'model.layers.0.input_layernorm.weight': (16,), 'lm_head.weight': (40, 16)}
    base = {k: torch.randn(s, generator=g) for k, s in shapes.items()}
    experts = [{k: v + 0.05 * torch.randn(v.shape, generator=g) for k, v in base.items()} for _ in range(3)]
    taus = [{k: e[k] - base[k] for k in base} for e in experts]
    exclude = ['lm_head.weight']
    tsvm, ties = run_peer(tmp_path, FUSION_SCRIPT, (taus, exclude, 0.2))
    ours = merge_state_dicts('tsvm', base, experts, exclude_keys=exclude).tensor
    resm_off = merge_state_dicts('resm', base, experts, outlier='none', rank='uniform', exclude_keys=exclude).tensor
    ours_ties = merge_state_dicts('ties', base, experts, density=0.2, trim='global').tensor
    off = 0
    for k in base:
        torch.testing.assert_close(ours[k] - base[k], tsvm[k], atol=1e-5, rtol=1e-4, msg=lambda m: f"tsvm {k}: {m}")
        torch.testing.assert_close(resm_off[k] - base[k], tsvm[k], atol=1e-5, rtol=1e-4, msg=lambda m: f"resm {k}: {m}")
        n = base[k].numel()
        torch.testing.assert_close(ours_ties[k] - base[k], ties[off:off + n].reshape(base[k].shape), atol=1e-5, rtol=1e-4,
                                   msg=lambda m: f"ties global {k}: {m}")
        off += n
