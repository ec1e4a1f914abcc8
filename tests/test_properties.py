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
        for rank in ['budget', 'density', 'energy', 'uniform']:
            res = merge_state_dicts('resm', {key: base}, [{key: e} for e in experts], outlier=outlier, rank=rank)
            info = res.info[key]
            if rank == 'budget': assert sum(info['ranks']) <= info['budget'] <= min(m, n) and (min(info['ranks']) >= 1 or info['budget'] < T)
            else: assert sum(info['ranks']) <= min(m, n) and all(k <= min(m, n) // T for k in info['ranks'])
            again = merge_state_dicts('resm', {key: base}, [{key: e} for e in experts], outlier=outlier, rank=rank)
            assert torch.equal(res.tensor[key], again.tensor[key])   # deterministic

def _sparse_delta(shape, seed, p_zero, rows=False):
    "A task vector with exact zeros (entries, or whole rows) and one entry 100 SDs out."
    g = torch.Generator().manual_seed(seed)
    d = 0.01 * torch.randn(shape, generator=g)
    keep = torch.rand((shape[0], 1) if rows else shape, generator=g) >= p_zero
    d = d * keep
    d[0, 0] = 1.0
    return d

def _np_bounds(v, c=3.0):
    "NumPy's median and c·1.4826·MAD of the values `v`."
    med = np.median(v); return med, c * 1.4826 * np.median(np.abs(v - med))

@SETTINGS
@given(m=st.integers(3, 30), n=st.integers(3, 30), p_zero=st.floats(0, 0.8), seed=st.integers(0, 2**31 - 1))
def test_resm_v2_huber_changed_entries_only(m, n, p_zero, seed):
    from resm_nb.tsvm import outlier_weight
    d = _sparse_delta((m, n), seed, p_zero)
    out, info = outlier_weight(d)
    ch = (d != 0).numpy()
    assert (out.numpy()[~ch] == 0).all()                                   # unchanged entries stay exactly 0
    v = d.double().numpy()[ch]
    if len(v) < 2: assert torch.equal(out, d); return
    med, cut = _np_bounds(v)
    o = out.double().numpy()[ch]
    assert (o >= med - cut - 1e-6).all() and (o <= med + cut + 1e-6).all()
    a = np.abs(v - med)
    assert int((a > cut * (1 + 1e-5)).sum()) <= info['n_down'] <= int((a > cut * (1 - 1e-5)).sum())
    assert info['frac_changed'] == ch.mean()

@SETTINGS
@given(rows=st.integers(2, 12), n=st.integers(3, 20), p_zero=st.floats(0, 0.9), seed=st.integers(0, 2**31 - 1))
def test_resm_v2_vocab_rows(rows, n, p_zero, seed):
    from resm_nb.tsvm import outlier_weight
    d = _sparse_delta((rows, n), seed, p_zero, rows=True)
    d[1, 1:] = 0                                                            # a row with one changed entry: left as it is
    out, _ = outlier_weight(d, rows=True, chunk=2 * n)
    for i in range(rows):
        v = d[i].double().numpy(); ch = v != 0
        assert (out[i].numpy()[~ch] == 0).all()
        med, cut = _np_bounds(v[ch]) if ch.sum() >= 2 else (0, 0)
        if ch.sum() < 2 or cut == 0: assert torch.equal(out[i], d[i]); continue
        o = out[i].double().numpy()[ch]
        assert (o >= med - cut - 1e-6).all() and (o <= med + cut + 1e-6).all()

@SETTINGS
@given(m=st.integers(3, 12), n=st.integers(3, 12), T=st.integers(2, 4), w=st.sampled_from([0.25, 0.3, 2.5, 8.0]),
       p_zero=st.floats(0, 0.7), seed=st.integers(0, 2**31 - 1))
def test_resm_scale_invariance_and_zero_expert(m, n, T, w, p_zero, seed):
    base = torch.zeros(m, n)
    taus = [_sparse_delta((m, n), seed + t, p_zero) for t in range(T)]
    keys = ['model.layers.0.mlp.up_proj.weight', 'model.layers.1.mlp.up_proj.weight']
    sds = lambda ts: [{keys[0]: t, keys[1]: t * (torch.arange(n) < n // 2)} for t in ts]
    ref = merge_state_dicts('resm', {k: base for k in keys}, sds(taus))
    scaled = merge_state_dicts('resm', {k: base for k in keys}, sds([taus[0] * w] + taus[1:]))
    for k in keys:
        for f in ('ranks', 'budget', 'n_down', 'frac_changed'): assert ref.info[k][f] == scaled.info[k][f], (k, f)
    zero = merge_state_dicts('resm', {k: base for k in keys}, sds(taus[:-1] + [torch.zeros(m, n)]))
    for k in keys:
        assert zero.info[k]['ranks'][-1] == 0 and torch.isfinite(zero.tensor[k]).all()
        assert sum(zero.info[k]['ranks']) <= zero.info[k]['budget'] <= min(m, n)
