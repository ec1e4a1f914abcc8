"""Reading a vocabulary tensor in the engine's blocks of rows, with and without `io.keep_freed_memory`.

Each block of rows of the four sources (a base and three experts) is read with `Checkpoint.rows` and converted
to fp32, as the engine's row-block passes do; a child process per run (glibc's thresholds are per process),
the two settings interleaved, the inputs read once beforehand so that both read from the page cache.

    python benchmarks/read_blocks.py --workdir /tmp/bench          # 8B-1L checkpoints (about 10 GB), built once

Prints GB/s of stored bytes per run; never a pass/fail test.
"""
import argparse, subprocess, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import build, read_once

CHILD = """
import sys, time
from resm_nb.io import Checkpoint, keep_freed_memory
from resm_nb.driver import ROW_BLOCK_BYTES, _row_step
keep, key, *dirs = sys.argv[1:]
if keep == 'keep': keep_freed_memory()
cks = [Checkpoint(d) for d in dirs]
shape = cks[0].info(key).shape
step, t, nb = _row_step(shape, len(cks) - 1, ROW_BLOCK_BYTES), time.perf_counter(), 0
for a in range(0, shape[0], step):
    for c in cks:
        x = c.rows(key, a, min(a + step, shape[0])); nb += x.numel() * x.element_size(); y = x.float()
print(nb / (time.perf_counter() - t) / 1e9)
"""

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--size', default='8B-1L', help='checkpoint shape (bench_engine.SHAPES)')
    ap.add_argument('--key', default='lm_head.weight', help='the tensor read')
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--workdir', default='/tmp/resm-bench')
    a = ap.parse_args()
    d = Path(a.workdir) / a.size
    build(d / 'base', a.size, 0)
    for i in range(3): build(d / f'e{i}', a.size, i + 1, base=d / 'base')
    dirs = [str(d / n) for n in ('base', 'e0', 'e1', 'e2')]
    read_once([Path(x) for x in dirs])
    res = {'plain': [], 'keep': []}
    for _ in range(a.repeat):
        for how in res:
            out = subprocess.run([sys.executable, '-c', CHILD, how, a.key, *dirs], capture_output=True, text=True, check=True).stdout
            res[how].append(float(out.split()[-1]))
    print(f'| {a.size} {a.key}, blocks of the engine, 4 sources | GB/s per run | best |')
    print('|---|---|---|')
    for how, v in res.items():
        print(f"| {'keep_freed_memory' if how == 'keep' else 'glibc defaults'} | {' '.join(f'{x:.2f}' for x in v)} | {max(v):.2f} |")

if __name__ == '__main__':
    main()
