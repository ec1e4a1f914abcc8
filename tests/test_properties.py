"""Property tests (hypothesis) of the merge registry over random shapes, dtypes and expert counts,
against closed forms and an independent NumPy implementation of TSV-M."""
import numpy as np, pytest, torch
from hypothesis import given, settings, strategies as st
from resm_nb.registry import registered
from resm_nb.driver import merge_tensor, merge_state_dicts

shapes = st.one_of(st.tuples(st.integers(1, 9)), st.tuples(st.integers(1, 9), st.integers(1, 9)))
common = dict(shape=shapes, T=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
SETTINGS = settings(max_examples=30, deadline=None)

def _make(shape, T, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(shape, generator=g)
    experts = [base + 0.1 * torch.randn(shape, generator=g) for _ in range(T)]
    return base.to(dtype), [e.to(dtype) for e in experts]

@SETTINGS
@given(**common, dtype=st.sampled_from([torch.float32, torch.bfloat16, torch.float16]))
def test_every_method_keeps_shape_and_dtype(shape, T, seed, dtype):
    base, experts = _make(shape, T, seed, dtype)
    for name in registered():
        out = merge_state_dicts(name, {'model.layers.0.mlp.up_proj.weight': base}, [{'model.layers.0.mlp.up_proj.weight': e} for e in experts]).tensor
        t = out['model.layers.0.mlp.up_proj.weight']
        assert t.shape == base.shape and t.dtype == dtype, name
        assert torch.isfinite(t.float()).all(), name

@SETTINGS
@given(**common)
def test_task_arithmetic_closed_form(shape, T, seed):
    base, experts = _make(shape, T, seed)
    w = [0.5 + i for i in range(T)]
    got = merge_tensor('task_arithmetic', base, experts, weight=w, **{'lambda': 0.7}).tensor
    want = base.double() + 0.7 * sum(wi * (e.double() - base.double()) for wi, e in zip(w, experts))
    assert torch.allclose(got.double(), want, atol=1e-5)
    assert torch.equal(merge_tensor('task_arithmetic', base, experts, **{'lambda': 0.0}).tensor, base)

@SETTINGS
@given(**common)
def test_identical_experts_give_the_expert(shape, T, seed):
    base, experts = _make(shape, 1, seed)
    for name in ['linear', 'task_arithmetic', 'ties', 'dare_linear', 'dare_ties', 'breadcrumbs', 'breadcrumbs_ties']:
        got = merge_tensor(name, base, experts * T, weight=1 / T).tensor
        assert torch.allclose(got, experts[0], atol=1e-5), name

@SETTINGS
@given(shape=shapes, seed=st.integers(0, 2**31 - 1))
def test_one_task_tsvm_and_resm_return_it(shape, seed):
    base, experts = _make(shape, 1, seed)
    for name, kw in [('tsvm', {}), ('resm', dict(outlier='none', rank='uniform'))]:
        assert torch.allclose(merge_tensor(name, base, experts, **kw).tensor, experts[0], atol=1e-5), name

def tsvm_numpy(taus):
    "TSV-M written independently from the formula, in NumPy float64 with the official zero-padded layout."
    T = len(taus); m, n = taus[0].shape; r = min(m, n); k = r // T
    U = np.zeros((m, r)); s = np.zeros(r); Vt = np.zeros((r, n))
    for t, d in enumerate(taus):
        u, sv, vt = np.linalg.svd(d, full_matrices=False)
        U[:, t*k:(t+1)*k], s[t*k:(t+1)*k], Vt[t*k:(t+1)*k] = u[:, :k], sv[:k], vt[:k]
    pu, _, qu = np.linalg.svd(U, full_matrices=False); pv, _, qv = np.linalg.svd(Vt, full_matrices=False)
    return (pu @ qu) @ np.diag(s) @ (pv @ qv)

@SETTINGS
@given(m=st.integers(2, 14), n=st.integers(2, 14), T=st.integers(2, 4), seed=st.integers(0, 2**31 - 1))
def test_tsvm_matches_independent_numpy(m, n, T, seed):
    base, experts = _make((m, n), T, seed)
    want = base.double().numpy() + tsvm_numpy([(e.double() - base.double()).numpy() for e in experts])
    for name, kw in [('tsvm', {}), ('resm', dict(outlier='none', rank='uniform'))]:
        got = merge_tensor(name, base, experts, **kw).tensor.double().numpy()
        np.testing.assert_allclose(got, want, atol=1e-4, err_msg=name)

@SETTINGS
@given(m=st.integers(3, 14), n=st.integers(3, 14), T=st.integers(2, 4), seed=st.integers(0, 2**31 - 1))
def test_resm_budget_and_huber_bounds(m, n, T, seed):
    base, experts = _make((m, n), T, seed)
    key = 'model.layers.0.self_attn.q_proj.weight'
    for outlier in ['huber', 'quantile', 'spectral']:
        for rank in ['density', 'energy', 'uniform']:
            res = merge_state_dicts('resm', {key: base}, [{key: e} for e in experts], outlier=outlier, rank=rank)
            info = res.info[key]
            assert sum(info['ranks']) <= min(m, n) and all(k <= min(m, n) // T for k in info['ranks'])
            again = merge_state_dicts('resm', {key: base}, [{key: e} for e in experts], outlier=outlier, rank=rank)
            assert torch.equal(res.tensor[key], again.tensor[key])   # deterministic
