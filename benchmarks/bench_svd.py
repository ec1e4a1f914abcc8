"""The factorisations behind TSV-M and RESM, timed one by one: `svd: exact` against `svd: fast`.

For each matrix shape (Llama-style: square attention, tall up/gate projections, wide down projections and
grouped-query k/v projections), on one device and thread count:
1. the thin SVD of a random fp32 matrix as given and through its transpose (what `svd(x, 'fast')` does for a
   wide matrix): seconds each, and their ratio;
2. the TSV-M core of three random task vectors (`tsv_combine` of their SVDs at rank ⌊r/3⌋) on the exact and on
   the fast path: seconds each, their ratio, and the relative Frobenius difference of M.
Times are the fastest of `--repeat` runs (CPU: process time; CUDA: synchronised wall time). Prints a Markdown
table; never a pass/fail test.

    python benchmarks/bench_svd.py --threads 1                 # Llama-shapes at hidden 1024 (the ~200M benchmark model)
    python benchmarks/bench_svd.py --hidden 4096 --device cuda  # Llama-3-8B's shapes, on a GPU
"""
import argparse, os, sys, time
import torch
from resm_nb.tsvm import svd, tsv_combine

def shapes(h:int) -> list:
    "Llama-style matrix shapes at hidden size `h` (intermediate ≈ 2.75 h, 4 query heads per k/v head)."
    inter = int(h * 2.75) // 64 * 64 if h < 4096 else 14336
    return [('q_proj, o_proj', (h, h)), ('up, gate', (inter, h)), ('down', (h, inter)), ('k, v (GQA)', (h // 4, h))]

def timed(f, device:str, repeat:int) -> float:
    "Fastest of `repeat` runs of `f()`, in seconds."
    best = float('inf')
    for _ in range(repeat):
        if device.startswith('cuda'): torch.cuda.synchronize(); t = time.perf_counter()
        else: t = time.process_time()
        f()
        if device.startswith('cuda'): torch.cuda.synchronize(); best = min(best, time.perf_counter() - t)
        else: best = min(best, time.process_time() - t)
    return best

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--hidden', type=int, default=1024)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    ap.add_argument('--repeat', type=int, default=2)
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    dev = a.device
    card = torch.cuda.get_device_name(dev) if dev.startswith('cuda') else f'CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)'
    print(f'device: {card}; torch {torch.__version__}; hidden {a.hidden}; fastest of {a.repeat} runs\n')
    print('| matrix | shape | SVD as given s | SVD of the transpose s | ratio | TSV-M core exact s | fast s | fast / exact | rel. Frobenius diff of M |')
    print('|---|---|---|---|---|---|---|---|---|')
    for name, (m, n) in shapes(a.hidden):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(m, n, generator=g).to(dev)
        t_as = timed(lambda: torch.linalg.svd(x, full_matrices=False), dev, a.repeat)
        t_tr = timed(lambda: torch.linalg.svd(x.T, full_matrices=False), dev, a.repeat)
        taus = [(torch.randn(m, n, generator=g) * 2e-3).to(dev) for _ in range(3)]
        k = min(m, n) // 3
        core = lambda how: tsv_combine([svd(t, how) for t in taus], [k] * 3, how)[0]
        t_ex, t_fa = timed(lambda: core('exact'), dev, a.repeat), timed(lambda: core('fast'), dev, a.repeat)
        M, Mf = core('exact'), core('fast')
        err = float((Mf - M).norm() / M.norm())
        print(f'| {name} | {m}×{n} | {t_as:.2f} | {t_tr:.2f} | {t_tr / t_as:.2f} | {t_ex:.2f} | {t_fa:.2f} | {t_fa / t_ex:.2f} | {err:.1e} |', flush=True)

if __name__ == '__main__': sys.exit(main())
