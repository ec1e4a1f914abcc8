"""How much do the merges lose to the per-expert weight grid and the selection budget? A check, not the protocol.

The main protocol gives every merge method the ratio search's budget: 13 dev evaluations of a coordinate search on
the grid (0, 0.125, 0.5, 1, 1.5). Many choices end at 1.5, the grid's top. This script goes on from each method's
dev choice (and the points its search already scored) on a wider, finer grid up to 3.0 with `--extra` more dev
evaluations, and reports, per seed and method, dev and test (mean 3H) before and after; then the two claims of the
main table again with the merges' rows replaced by the wider search's (the mixes keep their 13-candidate search,
so this favours the merges). Reads the models of a `resm-3h` cache; builds what is missing, like `resm-3h figures`.

    python tools/selection_headroom.py --cache /path/to/resm3h/cache --seeds 5 --jobs 2

Writes figures/selection_headroom.csv (one row per seed and method) and figures/selection_headroom.json (claims).
"""
import argparse, json, sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

WIDE = (0.0, 0.125, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)

def one_seed(cache:str, seed:int, extra:int) -> list:
    "Rows of one seed: each merge method's dev choice, and where the wider search goes from there."
    from resm_nb.testbed import (Testbed, TestbedConfig, coordinate_search, dev_choices, dev_mean, load_weights,
                                 merge_experts, threads)
    from resm_nb.evaluate import evaluate
    tb = Testbed(TestbedConfig(), seed, 0.0, cache, progress=False, log=lambda *a: None)
    rows = []
    with threads(tb.cfg.threads):
        for method, ch in sorted(dev_choices(tb).items()):
            trace = [(tuple(c), v) for c, v in ch['search']]
            merged = lambda w: merge_experts(tb, method, None, weights=w).tensor
            test = lambda w: evaluate(load_weights(tb, merged(w)), tb.tok, tb.world, 'test')['mean']
            w0 = tuple(map(float, ch['weights']))
            w, tr = coordinate_search(lambda x: dev_mean(tb, merged(x)), 3, WIDE, len(trace) + extra, start=w0, trace=trace)
            t0 = test(w0)
            rows.append(dict(seed=seed, method=method, weights0=list(w0), dev0=dict(tr)[w0], test0=t0, weights=list(w),
                             dev=dict(tr)[w], test=t0 if w == w0 else test(w), extra=len(tr) - len(trace)))
            print(json.dumps(rows[-1]), flush=True)
    return rows

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--cache', required=True, help="a resm-3h model cache (the default configuration's)")
    ap.add_argument('--seeds', type=int, default=5)
    ap.add_argument('--extra', type=int, default=24, help='dev evaluations beyond each method’s 13')
    ap.add_argument('--jobs', type=int, default=1)
    ap.add_argument('--out', default=str(Path(__file__).resolve().parent.parent / 'figures'))
    a = ap.parse_args(argv)
    import pandas as pd
    from resm_nb.testbed import Testbed, TestbedConfig, claims, results
    from resm_nb.io import claim_files, write_atomic
    names = ['selection_headroom.csv', 'selection_headroom.json']
    try: out = claim_files(a.out, names, 'tools/selection_headroom.py', check_only=True)   # a user's files of these names: refused now
    except OSError as e: sys.exit(str(e))
    with ProcessPoolExecutor(a.jobs) as ex:
        rows = [r for rs in ex.map(one_seed, [a.cache] * a.seeds, range(a.seeds), [a.extra] * a.seeds) for r in rs]
    df = pd.DataFrame(rows)
    claim_files(out, names, 'tools/selection_headroom.py')
    write_atomic(out / 'selection_headroom.csv', df.to_csv(index=False, float_format='%.4f'))
    wide = {(r['seed'], r['method']): r for r in rows}
    base_rows, wide_rows = [], []
    for s in range(a.seeds):
        for r in results(Testbed(TestbedConfig(), s, 0.0, a.cache, progress=False, log=lambda *a: None)):
            base_rows.append(r)
            if r['kind'] == 'merge' and (s, r['method']) in wide:
                w = wide[(s, r['method'])]; r = dict(r, dev=w['dev'], mean=w['test'])
            wide_rows.append(r)
    res = {'13 evaluations, grid to 1.5': claims(base_rows), f"{13}+{a.extra} evaluations, grid to 3.0": claims(wide_rows)}
    write_atomic(out / 'selection_headroom.json', json.dumps(res, indent=1, default=str) + '\n')
    d = df.assign(ddev=df.dev - df.dev0, dtest=df.test - df.test0)
    print(d.groupby('method')[['ddev', 'dtest']].mean().round(4).to_string())
    print(f"all: dev {d.ddev.mean():+.4f}, test {d.dtest.mean():+.4f} over {len(d)} (seed, method) pairs; "
          f"choices with a weight at 1.5 before: {sum(1.5 in w for w in df.weights0)} of {len(df)}")
    for k, v in res.items(): print(f"{k}: {v['merge_vs_mix']['verdict']}; {v['resm_vs_other']['verdict']}")

if __name__ == '__main__': sys.exit(main())
