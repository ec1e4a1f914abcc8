"""Per-step times of TSV-M and RESM (`svd: fast`) on one tensor of each Llama-3-8B layer shape: where RESM's extra time goes.

    python benchmarks/steps_gpu.py cuda            # on a GPU (about 30 s)
    python benchmarks/steps_gpu.py cpu small       # the same at 1/8 of each side, to try it on a CPU

Random bf16 inputs (a base and three experts = base + noise) drawn on the device; for each shape: the pieces of
RESM's outlier weighting (changed-entry selection, the subsample for median/MAD, one quantile), then robust
statistics, weighting, factorisations, the ranks' factors and the combination, for three experts, and the whole
`merge_one` of TSV-M and RESM, with the number of exact SVDs and eigendecompositions each took. A diagnostic that
prints times; never a pass/fail test.
"""
import sys, time, torch
from resm_nb.registry import get_method
from resm_nb.driver import merge_one
from resm_nb.tsvm import resm_weight, resm_robust, factorise, choose_ranks, tsv_combine, _resm_stats, resm_plan
from resm_nb.taskvec import subsample, quantile
dev = torch.device(sys.argv[1] if len(sys.argv) > 1 else 'cuda')
sync = (lambda: torch.cuda.synchronize()) if dev.type == 'cuda' else (lambda: None)
calls = {'svd': 0, 'eigh': 0}
_svd, _eigh = torch.linalg.svd, torch.linalg.eigh
def svd_(*a, **k): calls['svd'] += 1; return _svd(*a, **k)
def eigh_(*a, **k): calls['eigh'] += 1; return _eigh(*a, **k)
torch.linalg.svd, torch.linalg.eigh = svd_, eigh_
def tm(f):
    sync(); t = time.perf_counter(); r = f(); sync(); return r, time.perf_counter() - t
g = torch.Generator(dev).manual_seed(0)
wp = dict(outlier='huber', stats='changed', vocab='row', c=3.0, q=0.999, max_samples=2**24, seed=0)
shapes = {'q_proj': (4096, 4096), 'k_proj': (1024, 4096), 'up_proj': (14336, 4096), 'down_proj': (4096, 14336)}
if len(sys.argv) > 2: shapes = {k: (v[0] // 8, v[1] // 8) for k, v in shapes.items()}
for name, shape in shapes.items():
    key = f'model.layers.0.mlp.{name}.weight'
    b = (torch.randn(shape, generator=g, device=dev) * 0.02).bfloat16()
    es = [(b.float() + 0.002 * torch.randn(shape, generator=g, device=dev)).bfloat16() for _ in range(3)]
    bf, ef = b.float(), [e.float() for e in es]
    taus = [e - bf for e in ef]
    # pieces of the robust weighting
    x = taus[0].reshape(-1); _, t_mask = tm(lambda: x[x != 0])
    xs = x[x != 0]
    _, t_sub = tm(lambda: subsample(xs, 2**24, 0))
    sm = subsample(xs, 2**24, 0)
    _, t_q = tm(lambda: quantile(sm, 0.5))
    rbs, t_rob = tm(lambda: [resm_robust(t, key, i, **wp) for i, t in enumerate(taus)])
    wts, t_w = tm(lambda: [resm_weight(t, key, i, robust=rb, **wp)[0] for i, (t, rb) in enumerate(zip(taus, rbs))])
    c0 = dict(calls); fs, t_f = tm(lambda: [factorise(t, 'fast') for t in wts])
    kw = get_method('resm').kwargs(get_method('resm').resolve(3, {'svd': 'fast'}))
    st = _resm_stats(bf, ef, key=key, **kw); plan = resm_plan({key: st, key + 'x': st}, **kw)[key]
    ks = choose_ranks('budget', [f.s for f in fs], shape, plan)
    svds, t_fk = tm(lambda: [f.factors(k) for f, k in zip(fs, ks)])
    _, t_c = tm(lambda: tsv_combine(svds, ks, 'fast'))
    c1 = dict(calls)
    print(f"{name} {shape}: mask {t_mask:.3f} subsample {t_sub:.3f} quantile {t_q:.3f} | robust x3 {t_rob:.3f} weight x3 {t_w:.3f} "
          f"factorise x3 {t_f:.3f} factors x3 {t_fk:.3f} combine {t_c:.3f} | ranks {ks} (sum {sum(ks)}) svd calls {c1['svd'] - c0['svd']} eigh {c1['eigh'] - c0['eigh']}", flush=True)
    for meth in ['tsvm', 'resm']:
        m = get_method(meth); p = m.resolve(3, {'svd': 'fast'})
        ctx = plan if meth == 'resm' else None
        c0 = dict(calls); _, t = tm(lambda: merge_one(m, b, es, p, key, ctx, dev)); c1 = dict(calls)
        print(f"   merge_one {meth}: {t:.3f} s (svd calls {c1['svd'] - c0['svd']}, eigh {c1['eigh'] - c0['eigh']})", flush=True)
    del b, es, bf, ef, taus, wts, fs, svds
