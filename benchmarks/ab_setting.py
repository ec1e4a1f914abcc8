"""Side-by-side timing of one engine setting on and off: `engine.merge` in child processes, interleaved (issue 16).

    python benchmarks/ab_setting.py --setting io.EARLY_WRITEBACK --shape 800M --depth 14 --method task_arithmetic --rounds 6

`--setting` names a module-level constant of resm_nb (`io.EARLY_WRITEBACK`, `driver.ROW_BLOCK_BYTES`, ...), set to
`--on` and `--off` (Python literals; default True and False) in alternate child processes, the order swapped
every round so that neither value always runs second. Prints each run's merge time (timed inside the child, after
`import torch`), the medians, and whether the outputs are byte-identical. The checkpoints are `bench_gpu.py`'s
(built in `--workdir` once, reused). A diagnostic that prints times; never a pass/fail test.
"""
import argparse, ast, os, statistics, subprocess, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gpu import shaped, checkpoints, config
from bench_engine import SHAPES

CHILD = """
import importlib, sys, time, ast
mod, name = sys.argv[3].rsplit('.', 1)
setattr(importlib.import_module('resm_nb.' + mod), name, ast.literal_eval(sys.argv[4]))
from resm_nb.engine import merge
t = time.perf_counter(); merge(sys.argv[1], sys.argv[2], overwrite=True, device=sys.argv[5], progress=False)
print('T', time.perf_counter() - t)
"""

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--setting', required=True, help='a module constant of resm_nb, e.g. io.EARLY_WRITEBACK')
    ap.add_argument('--on', default='True'); ap.add_argument('--off', default='False')
    ap.add_argument('--shape', default='800M', choices=list(SHAPES)); ap.add_argument('--depth', type=int, default=14)
    ap.add_argument('--method', default='task_arithmetic'); ap.add_argument('--rounds', type=int, default=6)
    ap.add_argument('--device', default='cpu'); ap.add_argument('--workdir', default='/tmp/ab')
    a = ap.parse_args()
    for v in (a.on, a.off): ast.literal_eval(v)                      # fail here, not in the children
    work = Path(a.workdir); ins = checkpoints(work, shaped(a.shape, a.depth))
    times = {a.on: [], a.off: []}
    for r in range(a.rounds):
        for v in (a.on, a.off) if r % 2 == 0 else (a.off, a.on):
            out = work / f'ab-{a.method}-{v}'; cfg = config(ins, a.method, out)
            p = subprocess.run([sys.executable, '-c', CHILD, str(cfg), str(out), a.setting, v, a.device], capture_output=True, text=True)
            if p.returncode: sys.exit(f'{a.setting} = {v}: the merge failed:\n{p.stderr[-3000:]}')
            t = float([l for l in p.stdout.splitlines() if l.startswith('T ')][-1][2:])
            times[v].append(t); print(f'round {r}: {a.setting} = {v}: {t:.1f} s', flush=True)
    for v, ts in times.items(): print(f'{a.setting} = {v}: median {statistics.median(ts):.2f} s, runs {[round(t, 1) for t in ts]}')
    files = lambda v: [f.read_bytes() for f in sorted((work / f'ab-{a.method}-{v}').glob('*.safetensors'))]
    print('outputs:', 'identical' if files(a.on) == files(a.off) else 'DIFFERENT')

if __name__ == '__main__':
    main()
