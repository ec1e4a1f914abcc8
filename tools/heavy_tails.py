"""Heavy-tailed task vectors under `marker` preference noise with long small-batch DPO, and what RESM's outlier
weighting does with them (issue 13's outlier regime).

The testbed's own experts (a few epochs of batch 32, early-stopped on dev) have light-tailed task vectors under
every noise model (figures notebook, *Outliers under preference noise*). This script trains the experts of the
default configuration in a second regime, `LONG` (DPO batch 4, 6 epochs, a quarter of the learning rate, no early
stopping), under `marker` noise (world notebook) at each noise level and seed, and writes to --out:

- `heavy_tails.csv`: per seed, noise level and expert, the mean excess kurtosis and the mean share beyond 3 robust SDs
  of the task vectors of the layer matrices; the same over the embedding rows that changed; the near-linear regime
  check of the testbed (`linearity`: gain at t = 0.5 over gain at t = 1, and whether the check passes);
- `heavy_tails_merges.csv`: per seed and noise level, the test and dev 3H mean of TSV-M, RESM and RESM without outlier
  weighting, each with per-expert weights chosen on dev within the testbed's budget;
- `heavy_tails_claims.json`: per noise level, RESM − TSV-M and RESM − (RESM without outlier weighting) on the test mean,
  paired over seeds, with 95% intervals.

Models and per-testbed results are cached in --cache (the bases are the default configuration's: a `resm-3h` cache
can be given, and is only added to). Testbeds run on --jobs processes of one thread each.

    python tools/heavy_tails.py --seeds 3 --noises 0 0.1 0.2 0.3 --cache resm3h/cache --out figures --jobs 2
"""
import argparse, json, multiprocessing, sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

VARIANTS = {'TSV-M': ('tsvm', {}), 'RESM': ('resm', {}), 'RESM without outlier weighting': ('resm', {'outlier': 'none'})}


def long_config():
    "The default testbed configuration with `marker` noise and long small-batch DPO (`LONG`)."
    from resm_nb.testbed import TestbedConfig
    c = TestbedConfig()
    return replace(c, noise_model='marker', train=replace(c.train, dpo_batch=4, epochs=6, dpo_lr=c.train.dpo_lr / 4, checks=0))


def tails(base:dict, expert:dict) -> dict:
    "Mean excess kurtosis and share beyond 3 robust SDs of the layer matrices' task vectors, and of the embedding rows that moved."
    from resm_nb.taskvec import kurtosis, frac_beyond
    ks, bs = [], []
    for k, b in base.items():
        if '.layers.' in k and b.ndim == 2:
            t = expert[k] - b; ks.append(kurtosis(t)); bs.append(frac_beyond(t, 3.0))
    e = expert['model.embed_tokens.weight'] - base['model.embed_tokens.weight']
    moved = e[e.abs().sum(1) > 0]
    return dict(layer_kurtosis=sum(ks) / len(ks), layer_beyond3=sum(bs) / len(bs),
                emb_kurtosis=kurtosis(moved), emb_beyond3=frac_beyond(moved, 3.0), emb_rows_moved=int(moved.shape[0]))


def measure(seed:int, noise:float, cache:str) -> tuple:
    "(tail rows, merge rows) of one testbed of `long_config`, cached beside its models (`testbed.experiment`)."
    import torch
    torch.set_num_threads(1)
    import pandas as pd
    from resm_nb.testbed import Testbed, experiment, linearity, select_weights, merge_experts, load_weights
    from resm_nb.evaluate import evaluate
    from resm_nb.world import DIMS
    tb = Testbed(long_config(), seed, noise, cache, progress=False, log=lambda *a: None)

    def run(tb):
        base, lin = tb.state_dict('base'), linearity(tb)
        tr = [dict(seed=seed, noise=noise, expert=d, **tails(base, tb.state_dict(f'expert-{d}')),
                   regime_ratio=lin[d]['ratio'], regime_ok=lin[d]['ok']) for d in DIMS]
        mr = []
        for name, (method, params) in VARIANTS.items():
            w, trace = select_weights(tb, method, **params)
            m = load_weights(tb, merge_experts(tb, method, None, weights=w, **params).tensor)
            mr.append(dict(seed=seed, noise=noise, variant=name, weights=list(w), dev=dict(trace)[w],
                           test=evaluate(m, tb.tok, tb.world, 'test')['mean']))
        return pd.DataFrame(tr), pd.DataFrame(mr)
    t, m = experiment(tb, 'heavy_tails', run)
    return t.to_dict('records'), m.to_dict('records')


def claims(merges:list) -> dict:
    "Per noise level: RESM − TSV-M and RESM − (RESM without outlier weighting) on the test mean, paired over seeds."
    from resm_nb.testbed import paired_ci
    out = {}
    for p in sorted({r['noise'] for r in merges}):
        by = {(r['seed'], r['variant']): r['test'] for r in merges if r['noise'] == p}
        seeds = sorted({s for s, _ in by})
        out[f'{p:g}'] = {f'RESM − {o}': paired_ci([by[(s, 'RESM')] - by[(s, o)] for s in seeds])
                         for o in ('TSV-M', 'RESM without outlier weighting')}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, default=3)
    ap.add_argument('--noises', type=float, nargs='+', default=[0.0, 0.1, 0.2, 0.3])
    ap.add_argument('--cache', default='resm3h/cache')
    ap.add_argument('--out', default='figures')
    ap.add_argument('--jobs', type=int, default=2)
    a = ap.parse_args(argv)
    import pandas as pd
    from resm_nb.testbed import Testbed, build_model
    from resm_nb.io import claim_files, write_atomic
    out = Path(a.out)
    names = ['heavy_tails.csv', 'heavy_tails_merges.csv', 'heavy_tails_claims.json']
    try: claim_files(out, names, 'tools/heavy_tails.py', check_only=True)     # a user's files of these names: refused before any work
    except OSError as e: sys.exit(str(e))
    for s in range(a.seeds):                                   # the bases first: the testbeds of a seed share it
        tb = Testbed(long_config(), s, 0.0, a.cache, progress=False)
        if not (tb.path('base') / 'resm3h.json').exists(): print(f'training the base of seed {s}', flush=True); build_model(tb, 'base')
    todo = [(s, p) for s in range(a.seeds) for p in a.noises]
    with ProcessPoolExecutor(a.jobs, mp_context=multiprocessing.get_context('spawn')) as ex:
        res = list(ex.map(measure, *zip(*todo), [a.cache] * len(todo)))
    t = pd.DataFrame([r for tr, _ in res for r in tr]); m = pd.DataFrame([r for _, mr in res for r in mr])
    claim_files(out, names, 'tools/heavy_tails.py')
    c = claims(m.to_dict('records'))
    for name, text in [('heavy_tails.csv', t.to_csv(index=False, float_format='%.6g')),
                       ('heavy_tails_merges.csv', m.to_csv(index=False, float_format='%.6g')),
                       ('heavy_tails_claims.json', json.dumps(c, indent=1) + '\n')]:
        write_atomic(out / name, text)
    pd.set_option('display.width', 200)
    print(t.groupby('noise')[['layer_kurtosis', 'layer_beyond3', 'emb_kurtosis', 'emb_beyond3', 'regime_ratio', 'regime_ok']].mean().round(4))
    print(m.pivot_table(index='noise', columns='variant', values='test').round(4))
    for p, v in c.items():
        for k, ci in v.items(): print(f"noise {p}: {k} = {ci['diff']:+.4f} [{ci['lo']:+.4f}, {ci['hi']:+.4f}] over {ci['n']} seeds")


if __name__ == '__main__':
    main()
