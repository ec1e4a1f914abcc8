"""How fast the engine reads checkpoints, against safetensors' own reader, from the page cache.

For each size, a base and three experts (bench_engine's random Llama-shaped bf16 checkpoints, built once) are
read tensor by tensor in a child process per run (glibc's allocation thresholds are per process):

- `safetensors`: `safe_open(file, 'pt').get_tensor(name)` for every tensor of every shard, copied out of the
  memory map (`.clone()`: the tensor it returns is only mapped, so nothing would be read otherwise); the reference;
- `engine, whole`: `Checkpoint[name]` for every tensor (how the engine reads tensors it merges whole);
- `engine, blocks`: `Checkpoint.rows` over the engine's blocks of rows of the four sources together, for every
  tensor (how it reads large tensors it merges in blocks);

each with glibc's defaults and after `io.keep_freed_memory` (which `engine.merge` and `analyze.analyze` call), and
at each of `--threads` torch thread counts (safetensors' clone copies on all of torch's threads; the engine splits
reads of more than 32 MiB across them, `io.read_at`), the runs interleaved, every file read once beforehand. Prints GB/s of stored bytes (best of `--repeat`) and the ratio to
safetensors with the same allocator setting; never a pass/fail test.

    python benchmarks/bench_read.py --sizes 200M 8B-1L --threads 1 2 --workdir /tmp/bench
"""
import argparse, subprocess, sys
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import build, read_once

CHILD = """
import sys, time
from pathlib import Path
from resm_nb.io import Checkpoint, keep_freed_memory
from resm_nb.driver import ROW_BLOCK_BYTES, _row_step
how, keep, threads, *dirs = sys.argv[1:]
import torch; torch.set_num_threads(int(threads))
if keep == 'keep': keep_freed_memory()
t, nb = time.perf_counter(), 0
if how == 'safetensors':
    from safetensors import safe_open
    for d in dirs:
        for f in sorted(Path(d).glob('*.safetensors')):
            with safe_open(f, 'pt') as s:
                for k in s.keys(): x = s.get_tensor(k).clone(); nb += x.numel() * x.element_size()   # mapped: copied out, as the engine's reads are
else:
    cks = [Checkpoint(d) for d in dirs]
    if how == 'whole':
        for c in cks:
            for k in c: x = c[k]; nb += x.numel() * x.element_size()
    else:
        for k in cks[0]:
            shape = cks[0].info(k).shape
            step = _row_step(shape, len(cks) - 1, ROW_BLOCK_BYTES)
            for a in range(0, shape[0], step):
                for c in cks: x = c.rows(k, a, min(a + step, shape[0])); nb += x.numel() * x.element_size()
print(nb / (time.perf_counter() - t) / 1e9)
"""

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', nargs='+', default=['200M', '8B-1L'], help='checkpoint shapes (bench_engine.SHAPES)')
    ap.add_argument('--repeat', type=int, default=3)
    ap.add_argument('--workdir', default='/tmp/resm-bench')
    ap.add_argument('--threads', nargs='+', type=int, default=[torch.get_num_threads()],
                    help="torch threads of every reader: safetensors' clone copies on all of them, the engine splits large reads across them")
    a = ap.parse_args()
    print('| size | threads | reader | glibc defaults GB/s | ratio | keep_freed_memory GB/s | ratio |')
    print('|---|---|---|---|---|---|---|')
    for size in a.sizes:
        d = Path(a.workdir) / size
        build(d / 'base', size, 0)
        for i in range(3): build(d / f'e{i}', size, i + 1, base=d / 'base')
        dirs = [str(d / n) for n in ('base', 'e0', 'e1', 'e2')]
        read_once([Path(x) for x in dirs])
        runs = {(t, h, k): [] for t in a.threads for h in ('safetensors', 'whole', 'blocks') for k in ('plain', 'keep')}
        for _ in range(a.repeat):
            for t, h, k in runs:
                out = subprocess.run([sys.executable, '-c', CHILD, h, k, str(t), *dirs], capture_output=True, text=True, check=True).stdout
                runs[(t, h, k)].append(float(out.split()[-1]))
        best = {thk: max(v) for thk, v in runs.items()}
        for t in a.threads:
            for h, name in [('safetensors', 'safetensors get_tensor'), ('whole', 'engine, whole tensors'), ('blocks', 'engine, blocks of rows')]:
                row = [f"{best[(t, h, k)]:.2f} | {best[(t, h, k)] / best[(t, 'safetensors', k)]:.2f}" for k in ('plain', 'keep')]
                print(f'| {size} | {t} | {name} | ' + ' | '.join(row) + ' |', flush=True)

if __name__ == '__main__':
    main()
