"""The factorisations behind TSV-M and RESM, timed one by one: `svd: exact` against `svd: fast`.

For each matrix shape (Llama-style: square attention, tall up/gate projections, wide down projections and
grouped-query k/v projections), on one device and thread count:
1. the thin SVD of a random fp32 matrix: exact (`torch.linalg.svd`, LAPACK or cuSOLVER) and from the fp64 Gram
   matrix of its short side (`svd_gram`, what `svd: fast` calls): seconds each, and their ratio;
2. the TSV-M core of three random task vectors (`tsv_combine` of their SVDs at rank ⌊r/3⌋) on the exact and on
   the fast path: seconds each, their ratio, and the relative Frobenius difference of M; and, for reference, the
   core as FusionBench writes it (`torch.linalg.svd` of each matrix as it stands, wide ones included), which the
   exact path computes through the transposes of wide matrices (`lapack_svd`).
`--solvers` first times the dense solvers themselves; `--accuracy` compares both paths with M computed in fp64;
`--lapack` (CPU) times the exact core with every SVD from scipy's LAPACK (OpenBLAS in scipy's wheels) instead of
torch's (MKL in torch's x86 wheels): same algorithm (divide and conquer, `gesdd`), another library.
`--fp32-eigh` (CPU) times the fast core with the three per-task eigendecompositions in fp32 (of the fp64 Gram
matrix; the polar factors stay fp64) and compares both with fp64 SVDs on flat, decaying and geometric spectra: a
variant measured and not adopted (`results_fast.md`).
`--side-by-side` (CPU) times the exact core on all of torch's threads against the same core with its independent
SVDs (the T task matrices, then the two polar factors) computed at once, one per thread, each on one thread
(wall time, runs alternating; a variant measured, `results_fast.md`).
Times are the fastest of `--repeat` runs after one warm-up (CPU: process time; CUDA: synchronised wall time).
Prints a Markdown table; never a pass/fail test.

    python benchmarks/bench_svd.py --threads 1                 # Llama-shapes at hidden 1024 (the ~200M benchmark model)
    python benchmarks/bench_svd.py --hidden 4096 --device cuda --solvers --accuracy  # Llama-3-8B's shapes, on a GPU
    python benchmarks/bench_svd.py --threads 1 --solvers --lapack    # the exact path's SVDs: torch's LAPACK or scipy's
    python benchmarks/bench_svd.py --threads 2 --side-by-side --repeat 5    # torch's threads in one SVD, or one SVD per thread
"""
import argparse, os, sys, time
import torch
from resm_nb.tsvm import GramSVD, GRAM_BLOCK, gram, lapack_svd, svd, svd_gram, tsv_combine, _tall

def shapes(h:int) -> list:
    "Llama-style matrix shapes at hidden size `h` (intermediate ≈ 2.75 h, 4 query heads per k/v head)."
    inter = int(h * 2.75) // 64 * 64 if h < 4096 else 14336
    return [('q_proj, o_proj', (h, h)), ('up, gate', (inter, h)), ('down', (h, inter)), ('k, v (GQA)', (h // 4, h))]

def timed(f, device:str, repeat:int) -> tuple:
    "(Fastest of `repeat` runs of `f()` in seconds, the last run's result)."
    best, out = float('inf'), None
    for _ in range(repeat):
        if device.startswith('cuda'): torch.cuda.synchronize(); t = time.perf_counter()
        else: t = time.process_time()
        out = f()
        if device.startswith('cuda'): torch.cuda.synchronize(); best = min(best, time.perf_counter() - t)
        else: best = min(best, time.process_time() - t)
    return best, out

def as_written(taus, k:int) -> torch.Tensor:
    "The TSV-M core as FusionBench writes it: `torch.linalg.svd` of every matrix as it stands (wide ones too)."
    svds = [torch.linalg.svd(t, full_matrices=False) for t in taus]
    U = torch.cat([u[:, :k] for u, _, _ in svds], 1); s = torch.cat([sv[:k] for _, sv, _ in svds]); Vh = torch.cat([vh[:k] for _, _, vh in svds], 0)
    pol = lambda x: (lambda P, _, Qh: P @ Qh)(*torch.linalg.svd(x, full_matrices=False))
    return (pol(U) * s) @ pol(Vh)

def scipy_svd(t:torch.Tensor) -> tuple:
    "Thin SVD (U, σ, Vᵀ) of a CPU fp32 tensor by scipy's `gesdd` on its tall orientation, as torch tensors."
    import scipy.linalg as sl
    wide = t.shape[0] < t.shape[1]
    U, s, Vh = map(torch.from_numpy, sl.svd((t.T if wide else t).numpy(), full_matrices=False, lapack_driver='gesdd', check_finite=False))
    return (Vh.T, s, U.T) if wide else (U, s, Vh)

def core_scipy(taus, k:int) -> torch.Tensor:
    "The exact TSV-M core (task SVDs at rank `k`, polar factors by SVD) with every SVD from `scipy_svd`."
    svds = [scipy_svd(t) for t in taus]
    U = torch.cat([u[:, :k] for u, _, _ in svds], 1); s = torch.cat([sv[:k] for _, sv, _ in svds]); Vh = torch.cat([vh[:k] for _, _, vh in svds], 0)
    pol = lambda x: (lambda P, _, Qh: P @ Qh)(*scipy_svd(x))
    return (pol(U) * s) @ pol(Vh)

def lapack(h:int, repeat:int):
    "Per shape: the exact TSV-M core with torch's SVDs against the same core with scipy's, runs alternating (median s, range, ratio, rel. diff of M)."
    import statistics
    print(f'| matrix | shape | exact core, torch s ({repeat} runs) | exact core, scipy s | scipy / torch (medians) | rel. diff of M |'); print('|---' * 6 + '|')
    for name, (m, n) in shapes(h):
        g = torch.Generator().manual_seed(0)
        taus, k = [torch.randn(m, n, generator=g) * 2e-3 for _ in range(3)], min(m, n) // 3
        runs, M = {'torch': [], 'scipy': []}, {}
        for _ in range(repeat):                                            # alternating: a slow spell of the machine hits both
            for lib, f in [('torch', lambda: tsv_combine([svd(t) for t in taus], [k] * 3)[0]), ('scipy', lambda: core_scipy(taus, k))]:
                t = time.process_time(); M[lib] = f(); runs[lib].append(time.process_time() - t)
        med = {lib: statistics.median(v) for lib, v in runs.items()}
        cell = lambda lib: f'{med[lib]:.2f} ({min(runs[lib]):.2f}-{max(runs[lib]):.2f})'
        diff = float((M['scipy'] - M['torch']).norm() / M['torch'].norm())
        print(f'| {name} | {m}×{n} | {cell("torch")} | {cell("scipy")} | {med["scipy"] / med["torch"]:.2f} | {diff:.1e} |', flush=True)
    print()

def gram_svd_fp32(x:torch.Tensor, k:int, rcond:float=1e-4) -> tuple:
    "`GramSVD(x).factors(k)` with the eigendecomposition in fp32 (of the fp64 Gram matrix): the variant `--fp32-eigh` measures."
    f = GramSVD.__new__(GramSVD)
    f.t, f.wide = _tall(x.float()); f.rcond, f.block = rcond, GRAM_BLOCK   # rcond: what fp32 can resolve (the exact SVD below it)
    G = gram(f.t); G = G + G.triu(1).T                                    # `gram` fills the upper triangle
    ev, Q = torch.linalg.eigh(G.float())
    f.ev, f.Q = ev.flip(0).clamp_min(0).double(), Q.flip(1).double(); f.s = f.ev.sqrt().float()
    return f.factors(k)

def spectrum_taus(m:int, n:int, kind:str, g) -> list:
    "Three m × n task matrices with a flat, decaying (noise plus rank 8) or geometric (σ from 1e-2 to 1e-8) spectrum, as in 05_tsvm's bound."
    if kind == 'geometric':
        r = min(m, n)
        def one():
            U = torch.linalg.qr(torch.randn(m, r, generator=g, dtype=torch.float64))[0]; V = torch.linalg.qr(torch.randn(n, r, generator=g, dtype=torch.float64))[0]
            return ((U * torch.logspace(-2, -8, r, dtype=torch.float64)) @ V.T).float()
        return [one() for _ in range(3)]
    ts = [torch.randn(m, n, generator=g) * 2e-3 for _ in range(3)]
    return [t * 0.1 + torch.randn(m, 8, generator=g) @ torch.randn(8, n, generator=g) * 1e-3 for t in ts] if kind == 'decaying' else ts

def fp32_eigh(h:int, repeat:int):
    "Per shape and spectrum: the fast core against the same with fp32 per-task eigendecompositions (s, ratio), and both against fp64 SVDs."
    print('| shape | spectrum | fast s | fp32 eigh s | fp32 eigh / fast | fast vs fp64 | fp32 eigh vs fp64 |'); print('|---' * 7 + '|')
    for m, n in [(h, h), shapes(h)[1][1]]:
        for kind in ('flat', 'decaying', 'geometric'):
            ts, k = spectrum_taus(m, n, kind, torch.Generator().manual_seed(0)), min(m, n) // 3
            t_fa, Mf = timed(lambda: tsv_combine([svd(t, 'fast', k) for t in ts], [k] * 3, 'fast')[0], 'cpu', repeat)
            t_32, M32 = timed(lambda: tsv_combine([gram_svd_fp32(t, k) for t in ts], [k] * 3, 'fast')[0], 'cpu', repeat)
            ref = tsv_combine([torch.linalg.svd(t.double(), full_matrices=False) for t in ts], [k] * 3)[0]
            rel = lambda M: f'{float((M.double() - ref).norm() / ref.norm()):.1e}'
            print(f'| {m}×{n} | {kind} | {t_fa:.2f} | {t_32:.2f} | {t_32 / t_fa:.2f} | {rel(Mf)} | {rel(M32)} |', flush=True)
    print()

def solvers(h:int, dev:str, repeat:int):
    "Seconds of each dense solver on one random h × h matrix (its Gram matrix for the eigendecompositions)."
    x = torch.randn(h, h, generator=torch.Generator().manual_seed(1)).to(dev)
    g32 = x.T @ x; g64 = x.double().T @ x.double()
    rows = [('eigh fp64 (Gram)', lambda: torch.linalg.eigh(g64)), ('eigh fp32 (Gram)', lambda: torch.linalg.eigh(g32)),
            ('svd fp32, default driver', lambda: torch.linalg.svd(x, full_matrices=False)),
            ('svd fp64, default driver', lambda: torch.linalg.svd(x.double(), full_matrices=False))]
    if dev.startswith('cuda'):
        rows += [(f'svd fp32, driver {d}', (lambda d=d: torch.linalg.svd(x, full_matrices=False, driver=d))) for d in ('gesvd', 'gesvdj', 'gesvda')]
    else: rows += [("svd fp32, scipy's gesdd (its own LAPACK)", lambda: scipy_svd(x))]
    print(f'| solver ({h}×{h}) | s |'); print('|---|---|')
    for name, f in rows:
        try: print(f'| {name} | {timed(f, dev, repeat)[0]:.3f} |', flush=True)
        except Exception as e: print(f'| {name} | failed: {type(e).__name__} |', flush=True)
    print()

def accuracy(h:int, dev:str):
    "Relative Frobenius error of M (TSV-M core, three tasks, rank ⌊r/3⌋) against fp64 SVDs: exact path, fast path, cuSOLVER's gesvd."
    core = lambda ts, k, f, how: tsv_combine([f(t) for t in ts], [k] * 3, how)[0]
    sv64 = lambda t: torch.linalg.svd(t.double(), full_matrices=False)
    drivers = [('gesvd fp32', lambda t: torch.linalg.svd(t.float(), full_matrices=False, driver='gesvd'))] if dev.startswith('cuda') else []
    print('| shape | spectrum | exact vs fp64 | fast vs fp64 | ' + ''.join(f'{n} vs fp64 | ' for n, _ in drivers)); print('|---' * (4 + len(drivers)) + '|')
    for m, n in [(h, h), (h // 4, h)]:
        for decay in (False, True):
            g = torch.Generator().manual_seed(0)
            ts = [torch.randn(m, n, generator=g) * 2e-3 for _ in range(3)]
            if decay: ts = [t * 0.1 + torch.randn(m, 8, generator=g) @ torch.randn(8, n, generator=g) * 1e-3 for t in ts]
            ts, k = [t.to(dev) for t in ts], min(m, n) // 3
            ref = core(ts, k, sv64, 'exact')
            rel = lambda M: f'{float((M.double() - ref).norm() / ref.norm()):.1e}'
            cols = [rel(core(ts, k, svd, 'exact')), rel(core(ts, k, lambda t: svd(t, 'fast', k), 'fast'))] + [rel(core(ts, k, f, 'exact')) for _, f in drivers]
            print(f'| {m}×{n} | {"decaying" if decay else "flat"} | ' + ' | '.join(cols) + ' |', flush=True)
    print()

def core_side_by_side(taus, k:int, pool) -> torch.Tensor:
    "The exact TSV-M core with the task SVDs, then the two polar factors, computed side by side in `pool` (one SVD per worker)."
    svds = list(pool.map(lapack_svd, taus))
    U = torch.cat([u[:, :k] for u, _, _ in svds], 1); s = torch.cat([sv[:k] for _, sv, _ in svds]); Vh = torch.cat([vh[:k] for _, _, vh in svds], 0)
    Uo, Vo = pool.map(lambda x: (lambda P, _, Qh: P @ Qh)(*lapack_svd(x)), [U, Vh])
    return (Uo * s) @ Vo

def side_by_side(h:int, repeat:int):
    "Per shape: the exact core on all torch threads against one SVD per thread, each single-threaded (wall s, median and range, ratio)."
    import statistics
    from concurrent.futures import ThreadPoolExecutor
    nt = torch.get_num_threads()
    print(f'| matrix | shape | exact core, {nt} threads per SVD, s ({repeat} runs) | {nt} SVDs side by side, 1 thread each, s | '
          'side by side / threads (medians) | rel. diff of M |'); print('|---' * 6 + '|')
    with ThreadPoolExecutor(nt) as pool:
        for name, (m, n) in shapes(h):
            g = torch.Generator().manual_seed(0)
            taus, k = [torch.randn(m, n, generator=g) * 2e-3 for _ in range(3)], min(m, n) // 3
            runs, M = {'threads': [], 'side': []}, {}
            for _ in range(repeat):                                        # alternating: a slow spell of the machine hits both
                for how in ('threads', 'side'):
                    torch.set_num_threads(nt if how == 'threads' else 1)
                    t = time.perf_counter()
                    M[how] = tsv_combine([svd(x) for x in taus], [k] * 3)[0] if how == 'threads' else core_side_by_side(taus, k, pool)
                    runs[how].append(time.perf_counter() - t)
            torch.set_num_threads(nt)
            med = {how: statistics.median(v) for how, v in runs.items()}
            cell = lambda how: f'{med[how]:.2f} ({min(runs[how]):.2f}-{max(runs[how]):.2f})'
            diff = float((M['side'] - M['threads']).norm() / M['threads'].norm())
            print(f'| {name} | {m}×{n} | {cell("threads")} | {cell("side")} | {med["side"] / med["threads"]:.2f} | {diff:.1e} |', flush=True)
    print()

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--hidden', type=int, default=1024)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    ap.add_argument('--repeat', type=int, default=2)
    ap.add_argument('--accuracy', action='store_true', help='also compare M of the exact and the fast path with M computed in fp64 '
                    '(square and GQA shapes, flat and decaying spectra)')
    ap.add_argument('--solvers', action='store_true', help='first time the solvers themselves on one hidden × hidden matrix '
                    '(SVD drivers on CUDA, symmetric eigendecomposition in fp32 and fp64)')
    ap.add_argument('--lapack', action='store_true', help="also time the exact core with scipy's SVDs instead of torch's (CPU)")
    ap.add_argument('--fp32-eigh', action='store_true', help='also time the fast core with fp32 per-task eigendecompositions, '
                    'and compare both with fp64 SVDs on flat, decaying and geometric spectra (CPU)')
    ap.add_argument('--side-by-side', action='store_true', help="also time the exact core on all of torch's threads against its "
                    'independent SVDs side by side, one per thread (CPU)')
    a = ap.parse_args()
    if a.threads: torch.set_num_threads(a.threads); os.environ.setdefault('OPENBLAS_NUM_THREADS', str(a.threads))   # before scipy loads OpenBLAS
    dev = a.device
    card = torch.cuda.get_device_name(dev) if dev.startswith('cuda') else f'CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)'
    print(f'device: {card}; torch {torch.__version__}; hidden {a.hidden}; fastest of {a.repeat} runs\n')
    w = torch.randn(64, 64).to(dev)                                        # warm-up: solver handles, kernels
    torch.linalg.svd(w); svd_gram(w); torch.linalg.eigh(w.double() @ w.double().T)
    if a.solvers: solvers(a.hidden, dev, a.repeat)
    if a.accuracy: accuracy(a.hidden, dev)
    if a.lapack and dev == 'cpu': lapack(a.hidden, a.repeat)
    if a.fp32_eigh and dev == 'cpu': fp32_eigh(a.hidden, a.repeat)
    if a.side_by_side and dev == 'cpu': side_by_side(a.hidden, a.repeat)
    print('| matrix | shape | SVD exact s | SVD from Gram s | ratio | TSV-M core as written s | exact s | exact / as written | '
          'rel. diff of M | fast s | fast / exact | rel. Frobenius diff of M, fast |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|')
    for name, (m, n) in shapes(a.hidden):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(m, n, generator=g).to(dev)
        t_ex1, _ = timed(lambda: torch.linalg.svd(x, full_matrices=False), dev, a.repeat)
        t_gr1, _ = timed(lambda: svd_gram(x), dev, a.repeat)
        taus = [(torch.randn(m, n, generator=g) * 2e-3).to(dev) for _ in range(3)]
        k = min(m, n) // 3
        core = lambda how: tsv_combine([svd(t, how) for t in taus], [k] * 3, how)[0]
        (t_ex, M), (t_fa, Mf) = timed(lambda: core('exact'), dev, a.repeat), timed(lambda: core('fast'), dev, a.repeat)
        t_aw, Maw = timed(lambda: as_written(taus, k), dev, a.repeat)
        err, err_aw = float((Mf - M).norm() / M.norm()), float((Maw - M).norm() / M.norm())
        print(f'| {name} | {m}×{n} | {t_ex1:.2f} | {t_gr1:.2f} | {t_gr1 / t_ex1:.2f} | {t_aw:.2f} | {t_ex:.2f} | {t_ex / t_aw:.2f} | '
              f'{err_aw:.1e} | {t_fa:.2f} | {t_fa / t_ex:.2f} | {err:.1e} |', flush=True)

if __name__ == '__main__': sys.exit(main())
