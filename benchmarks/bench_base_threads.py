"""The testbed's base SFT on one thread and on more: time, and whether the trained weights are the same bits.

`resm-3h --jobs N` lets a base that trains alone use `testbed.BASE_THREADS` threads, because its bits do not depend
on the thread count (tested on a few steps in 10_train and on the quick base in 12_testbed). This runs the whole SFT
of one seed's base (the default configuration unless `--quick`) with each thread count, one after the other in this
process, prints the seconds, and compares every tensor (rounded to the storage dtype, as the testbed stores it) with
the first run and, with `--cache`, with that cache's base of the seed. Run it on a quiet machine; never a test.

    python benchmarks/bench_base_threads.py --threads 2 1 [--seed 0] [--quick] [--cache resm3h/cache]
"""
import argparse, time
from pathlib import Path
import torch
from resm_nb.testbed import Testbed, TestbedConfig
from resm_nb.train import small_llama, train_sft, round_to
from resm_nb.world import base_sft_data


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--threads', type=int, nargs='+', default=[2, 1], help='thread counts, run in this order')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--quick', action='store_true', help='the quick configuration')
    ap.add_argument('--cache', help="a testbed cache whose base of --seed to compare with (read only)")
    a = ap.parse_args()
    cfg = TestbedConfig.quick() if a.quick else TestbedConfig()
    tb = Testbed(cfg, a.seed, 0.0, a.cache or '/nonexistent', progress=False)
    t = cfg.train
    data = base_sft_data(tb.world, tb.seed, cfg.base)
    ref = None
    if a.cache:
        f = tb.path('base') / 'model.safetensors'
        if not f.exists(): raise SystemExit(f"{f}: no base of seed {a.seed} in that cache")
        from safetensors.torch import load_file
        ref = load_file(f)
    first = None
    print(f"base SFT, seed {a.seed}, {'quick' if a.quick else 'default'} configuration: {t.sft_steps} steps of {t.batch} sequences")
    for n in a.threads:
        torch.set_num_threads(n)
        m = small_llama(tb.tok, cfg.model, seed=t.seed + tb.seed)
        t0 = time.perf_counter()
        train_sft(m, tb.tok, data, steps=t.sft_steps, batch=t.batch, lr=t.sft_lr, seed=t.seed + tb.seed, progress=False)
        dt = time.perf_counter() - t0
        sd = {k: v.to(getattr(torch, t.dtype)) for k, v in round_to(m, t.dtype).state_dict().items()}
        first = first or sd
        same = all(torch.equal(sd[k], first[k]) for k in first)
        line = f"threads {n}: {dt:.1f} s; same bits as the first run: {same}"
        if ref is not None: line += f"; as the cache's base: {all(torch.equal(sd[k], ref[k]) for k in ref)}"
        print(line, flush=True)


if __name__ == '__main__':
    main()
