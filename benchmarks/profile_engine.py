"""Where the time of one `resm-merge` goes: a cProfile of `engine.merge` on Llama-3-8B-shaped checkpoints (issue 16).

    python benchmarks/profile_engine.py --depth 1 --methods task_arithmetic resm:svd=fast     # on a GPU: about a minute
    python benchmarks/profile_engine.py --device cpu --shape 50M --depth 8 --methods tsvm --threads 1 --workdir /tmp/pe50

Builds (or reuses, with `bench_gpu.py`'s `--workdir`) a base and three experts of `--shape` (default: Llama-3-8B's) at `--depth` layers,
times reading them once, then merges with each method on `--device` under cProfile and prints the functions that
took the most time of their own (host-to-device copies show up as `Tensor.to`, reads as `preadv`, the GPU's
factorisations as `linalg_eigh`). A diagnostic that prints times; never a pass/fail test.
"""
import argparse, cProfile, io, pstats, sys, time, warnings
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gpu import shaped, checkpoints, config
from bench_engine import SHAPES, read_once
from resm_nb.engine import merge

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--shape', default='8B', choices=list(SHAPES)); ap.add_argument('--depth', type=int, default=1)
    ap.add_argument('--methods', nargs='+', default=['task_arithmetic', 'resm:svd=fast'])
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--workdir', default='/tmp/bench-gpu', help="where the checkpoints are built (bench_gpu.py's, reused)")
    ap.add_argument('--top', type=int, default=15, help='how many functions to print per merge')
    ap.add_argument('--threads', type=int, default=None, help="torch's CPU threads (default: torch's own)")
    a = ap.parse_args()
    warnings.filterwarnings('ignore', message='.*no tokenizer files')     # random checkpoints have none
    if a.threads: torch.set_num_threads(a.threads)
    work = Path(a.workdir)
    ins = checkpoints(work, shaped(a.shape, a.depth), 'cuda' if a.device.startswith('cuda') else 'cpu')
    print(f'reading the inputs once: {read_once(ins):.2f} s', flush=True)
    sync = torch.cuda.synchronize if a.device.startswith('cuda') else (lambda: None)
    if a.device.startswith('cuda'): torch.zeros(1, device=a.device); sync()      # CUDA's start-up outside the profile
    for method in a.methods:
        out = work / f'prof-{method.replace(":", "-").replace("=", "-")}'
        cfg = config(ins, method, out)
        pr = cProfile.Profile(); t = time.perf_counter()
        pr.enable(); merge(cfg, out, overwrite=True, device=a.device, progress=False); sync(); pr.disable()
        print(f'== {method} on {a.device}, depth {a.depth}: {time.perf_counter() - t:.1f} s', flush=True)
        s = io.StringIO(); pstats.Stats(pr, stream=s).sort_stats('tottime').print_stats(a.top)
        text = s.getvalue(); print(text[max(0, text.find('ncalls')):], flush=True)        # the table, without pstats' preamble

if __name__ == '__main__':
    main()
