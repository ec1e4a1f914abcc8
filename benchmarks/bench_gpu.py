"""RESM, TSV-M, TIES and task arithmetic at 8B shapes on a GPU: agreement with the CPU, determinism, time, memory.

One command reproduces the GPU figures wherever a GPU is present (issue 16):

    python benchmarks/bench_gpu.py --analyze --workdir /tmp/bench-gpu      # about 10 minutes on an H100 or H200

(`benchmarks/results_gpu.md` has the figures of the last run, with the card.)

1. Agreement and determinism on a small Llama shape (`--check-shape`, default `mini`): every method merged on
   the GPU and on the CPU (max |Δ| over all tensors, in fp32 outputs), and twice on the GPU (byte-identical
   output files or not).
2. Speed and memory on Llama-3-8B shapes (hidden 4096, intermediate 14336, vocab 128256, bf16, a base and
   three experts = base + seeded noise) at reduced depths: for each depth and method, `resm-merge` in a child
   process (wall time, peak RSS from wait4, peak GPU memory from the child), and the time to read all inputs
   once. The time of a 32-layer model is extrapolated linearly from two depths: per-layer time t(d2) − t(d1)
   over d2 − d1, plus the fixed part (embeddings, LM head, start-up). "merge alone" is `engine.merge` timed inside
   the child (without Python's and torch's start and CUDA's first use), at the row's last depth.

Prints a Markdown table on stdout (rows also on stderr as they are measured); never a pass/fail test.
`--device cpu` runs the same script without a GPU (for trying it at small shapes: `--shape mini`).
"""
import argparse, hashlib, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import torch, yaml
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_engine import SHAPES, build, read_once, method_spec     # one checkpoint builder for every benchmark
from resm_nb.io import Checkpoint

SHAPES.setdefault('mini', (256, 704, 2, 8, 2, 8000))         # hidden, intermediate, layers, heads, kv heads, vocab

CHILD = """
import json, os, sys, time, torch
import resm_nb.io
from resm_nb.engine import merge
cfg, out, device = sys.argv[1], sys.argv[2], sys.argv[3]
if os.environ.get('BENCH_NO_WRITEBACK'): resm_nb.io.EARLY_WRITEBACK = False
if device.startswith('cuda'): torch.cuda.reset_peak_memory_stats()
t = time.perf_counter()
merge(cfg, out, overwrite=True, device=device, progress=False)
if device.startswith('cuda'): torch.cuda.synchronize()
print('RESULT ' + json.dumps(dict(seconds=time.perf_counter() - t,
      gpu_peak_gb=torch.cuda.max_memory_allocated() / 2**30 if device.startswith('cuda') else None)))
"""

STARTUP = """
import json, sys, time
t0 = time.perf_counter(); import torch
t1 = time.perf_counter(); import resm_nb.engine
t2 = time.perf_counter()
if sys.argv[1].startswith('cuda'): torch.zeros(1, device=sys.argv[1]); torch.cuda.synchronize()
t3 = time.perf_counter()
print('RESULT ' + json.dumps(dict(torch=t1 - t0, engine=t2 - t1, device=t3 - t2)))
"""

CHECKS = """
import json, sys
from resm_nb.engine import merge
for cfg, out, device in json.loads(sys.argv[1]): merge(cfg, out, overwrite=True, device=device, progress=False)
"""

ANALYZE = """
import json, sys, time, torch
from resm_nb.analyze import analyze
cfg, device = sys.argv[1], sys.argv[2]
if device.startswith('cuda'): torch.cuda.reset_peak_memory_stats()
t = time.perf_counter()
analyze(cfg, device=device, progress=False)
print('RESULT ' + json.dumps(dict(seconds=time.perf_counter() - t,
      gpu_peak_gb=torch.cuda.max_memory_allocated() / 2**30 if device.startswith('cuda') else None)))
"""

PARAMS = {'task_arithmetic': {'lambda': 0.5}, 'ties': {'density': 0.5}, 'tsvm': {}, 'resm': {}}

def shaped(name:str, depth:int) -> str:
    "The key of `name`'s shape with `depth` layers (registered in SHAPES)."
    h, inter, _, heads, kv, vocab = SHAPES[name]
    key = f'{name}-d{depth}'
    SHAPES[key] = (h, inter, depth, heads, kv, vocab)
    return key

def checkpoints(work:Path, key:str, device:str='cpu') -> list:
    "A base and three experts of shape `key` under `work/key` (built once, reused; random numbers drawn on `device`)."
    d = work / key
    build(d / 'base', key, 0, device=device)
    for i in range(3): build(d / f'e{i}', key, i + 1, base=d / 'base', device=device)
    return [d / 'base'] + [d / f'e{i}' for i in range(3)]

def config(inputs:list, method:str, out:Path, dtype:str='bfloat16') -> Path:
    "Write the resm-merge YAML of `method` (`name:key=value,...`) over `inputs` (base first) beside `out`; its path."
    name, params = method_spec(method, PARAMS)                 # `tsvm:svd=fast`: a method with parameters
    cfg = {'merge_method': name, 'base_model': str(inputs[0]), 'models': [str(p) for p in inputs[1:]],
           'parameters': params, 'dtype': dtype}
    out.parent.mkdir(parents=True, exist_ok=True)
    f = out.parent / f'{out.name}.yml'; f.write_text(yaml.safe_dump(cfg))
    return f

def _child(code:str, args:list, what:str, env:dict=None) -> dict:
    "Run Python `code` with `args` in a child process (with `env` added to the environment): its RESULT line (if any) with wall time and peak RSS (MB)."
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, '-c', code, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         env={**os.environ, **(env or {})})
    log = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0: raise RuntimeError(f"{what} failed:\n{log[-3000:]}")
    res = [json.loads(l[7:]) for l in log.splitlines() if l.startswith('RESULT ')]
    return dict(res[-1] if res else {}, wall=time.perf_counter() - t0, rss_mb=ru.ru_maxrss / 1024)

def merge_child(inputs:list, method:str, out:Path, device:str, dtype:str='bfloat16', env:dict=None) -> dict:
    "Merge in a child process (with `env` added to its environment); its wall time, peak RSS (MB), peak GPU memory (GB) and merge time."
    return _child(CHILD, [config(inputs, method, out, dtype), out, device], f'{method} on {device}', env)

def merge_all(jobs:list, what:str):
    "Run the merges `jobs` ([(config, out, device)]) one after the other in one child process (one start-up for all)."
    _child(CHECKS, [json.dumps([[str(c), str(o), d] for c, o, d in jobs])], what)

def digest(folder:Path) -> str:
    "SHA-256 of the safetensors files of a merged folder."
    h = hashlib.sha256()
    for f in sorted(folder.glob('*.safetensors')): h.update(f.read_bytes())
    return h.hexdigest()

def max_diff(a:Path, b:Path) -> float:
    "Largest |Δ| between two merged checkpoints, over every tensor."
    ca, cb = Checkpoint(a), Checkpoint(b)
    return max(float((ca[k].float() - cb[k].float()).abs().max()) for k in ca)

def _numbers(res:dict) -> dict:
    "Every number of an analysis's tables, by (table, row, column)."
    out = {}
    for t, df in res.items():
        if t == 'summary': continue
        for i, row in df.reset_index(drop=True).iterrows():
            for c, v in row.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool): out[(t, i, c)] = float(v)
    return out

def analysis(work:Path, a, small:list, big:list, say):
    "resm-analyze: CPU and GPU answers on the check shape (max relative difference), and the time at the deeper 8B shape."
    import math
    from resm_nb.analyze import analyze
    cfg = config(small, 'tsvm', work / 'ana-small', 'float32')
    r_cpu, r_gpu = (_numbers(analyze(cfg, device=d, progress=False)) for d in ('cpu', a.device))
    rel = max((abs(r_cpu[k] - r_gpu[k]) / max(abs(r_cpu[k]), 1e-12) for k in r_cpu
               if not (math.isnan(r_cpu[k]) and math.isnan(r_gpu[k])) and abs(r_cpu[k]) > 1e-8), default=0.0)
    nan_same = all(math.isnan(r_cpu[k]) == math.isnan(r_gpu[k]) for k in r_cpu)
    r = _child(ANALYZE, [config(big, 'tsvm', work / 'ana-big'), a.device], 'resm-analyze')
    say(''); say('| resm-analyze | numbers compared (check shape) | max rel. diff CPU vs GPU | NaNs alike | '
                 f'depth {a.depths[0]} s | peak GPU GB | peak RSS GB |')
    say('|---|---|---|---|---|---|---|')
    gpu = '-' if r.get('gpu_peak_gb') is None else f"{r['gpu_peak_gb']:.1f}"
    say(f"| {a.device} | {len(r_cpu)} | {rel:.1e} | {'yes' if nan_same else 'NO'} | {r['wall']:.1f} | {gpu} | {r['rss_mb'] / 1024:.1f} |")

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--shape', default='8B', choices=list(SHAPES), help='the timed shape (its depth is replaced by --depths)')
    ap.add_argument('--depths', type=int, nargs=2, default=[1, 3], help='two depths to time and extrapolate from (two layers apart: '
                    "one layer's time is within the run-to-run noise of a whole merge)")
    ap.add_argument('--layers', type=int, default=32, help='the depth to extrapolate to')
    ap.add_argument('--check-shape', default='mini', choices=list(SHAPES), help='the shape of the agreement and determinism checks')
    ap.add_argument('--methods', nargs='+', default=['task_arithmetic', 'ties', 'tsvm:svd=fast', 'resm:svd=fast'],
                    help='methods, each optionally with parameters: name:key=value,...')
    ap.add_argument('--once', nargs='*', default=['tsvm', 'resm'], help='methods timed at the first depth only (no extrapolation): '
                    'baselines (default: the exact paths, which take 4-8x as long per layer)')
    ap.add_argument('--unpinned', nargs='*', default=[], help='methods also timed at the first depth with RESM_PIN_MEMORY=0 '
                    '(inputs read into ordinary memory, as before pinned reads): the gain of pinning, side by side')
    ap.add_argument('--no-writeback', nargs='*', default=[], help='methods also timed at the second depth with io.EARLY_WRITEBACK off '
                    "(the output's writeback left to the final fsync): the gain of early writeback, side by side")
    ap.add_argument('--analyze', action='store_true', help='also time resm-analyze on the shallower checkpoints, and compare its CPU and GPU answers on the check shape')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else None, help='cuda (default when present) or cpu')
    ap.add_argument('--workdir', default=None, help='where the checkpoints are built (kept and reused)')
    a = ap.parse_args()
    if a.device is None: ap.error('no CUDA device: pass --device cpu to run the benchmark on the CPU')
    work = Path(a.workdir or tempfile.mkdtemp(prefix='resm-bench-gpu-'))
    card = torch.cuda.get_device_name(a.device) if a.device.startswith('cuda') else f'CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)'
    lines = [f"device: {card}; torch {torch.__version__}; shape {a.shape} at depths {a.depths[0]} and {a.depths[1]}, "
             f"extrapolated to {a.layers} layers", '']
    say = lambda l: (lines.append(l), print(l, file=sys.stderr, flush=True))
    st = _child(STARTUP, [a.device], 'start-up')
    say(f"start-up of a merge's process: Python and `import torch` {st['wall'] - st['engine'] - st['device']:.1f} s, "
        f"`import resm_nb.engine` {st['engine']:.1f} s, first use of {a.device} {st['device']:.1f} s"); say('')
    # 1. agreement with the CPU and determinism, on a small shape
    say(f'| check ({a.check_shape}) | method | max abs diff vs CPU (fp32 out) | rerun identical | max abs diff vs the exact path (CPU) |')
    say('|---|---|---|---|---|')
    small = checkpoints(work, a.check_shape)
    checked = a.methods + [m for m in a.once if m not in a.methods]
    outs = {m: work / f'chk-{m}' for m in checked}
    cfgs = {m: config(small, m, outs[m] / 'cpu', 'float32') for m in checked}
    for dev, sub in [('cpu', 'cpu'), (a.device, 'dev'), (a.device, 'dev2')]:
        merge_all([(cfgs[m], outs[m] / sub, dev) for m in checked], f'the checks on {dev}')
    for m in checked:
        o = outs[m]
        plain = work / f'chk-{m.partition(":")[0]}' / 'cpu'              # `tsvm:svd=fast` against `tsvm`, when both are run
        vs = f'{max_diff(plain, o / "cpu"):.2e}' if ':' in m and plain.exists() else '-'
        say(f'| | {m} | {max_diff(o / "cpu", o / "dev"):.2e} | {"yes" if digest(o / "dev") == digest(o / "dev2") else "NO"} | {vs} |')
    # 2. time and memory at the big shape, two depths
    say(''); say('| method | ' + ' | '.join(f'depth {d}: s' for d in a.depths) + f' | per layer s | {a.layers} layers s (extrap.) | '
                 'peak GPU GB | peak RSS GB | read-once s (depth ' + str(a.depths[-1]) + ') | merge alone s |')
    say('|---|---|---|---|---|---|---|---|---|')
    runs, read = {}, None
    variants = [(a.no_writeback, a.depths[-1], 'io.EARLY_WRITEBACK = False', {'BENCH_NO_WRITEBACK': '1'}),
                (a.unpinned, a.depths[0], 'RESM_PIN_MEMORY=0', {'RESM_PIN_MEMORY': '0'})]
    for d in a.depths:
        inputs = checkpoints(work, shaped(a.shape, d), a.device)
        if d == a.depths[-1]:
            read = read_once(inputs); print(f'  reading the inputs once at depth {d}: {read:.1f} s', file=sys.stderr, flush=True)
        for m in a.methods + (a.once if d == a.depths[0] else []):
            runs[(m, d)] = merge_child(inputs, m, work / f'out-{m}-d{d}', a.device)
            shutil.rmtree(work / f'out-{m}-d{d}', ignore_errors=True)
            r = runs[(m, d)]                                          # every figure as soon as measured (a time limit loses only the rest)
            print(f'  {m} at depth {d}: {r["wall"]:.1f} s, peak GPU {r.get("gpu_peak_gb") or 0:.1f} GB, peak RSS {r["rss_mb"] / 1024:.1f} GB',
                  file=sys.stderr, flush=True)
        for methods, at, label, env in variants:                      # the side-by-side runs with one setting off
            for m in (methods if d == at else []):
                runs[(m, label)] = r = merge_child(inputs, m, work / f'out-{m}-variant', a.device, env=env)
                shutil.rmtree(work / f'out-{m}-variant', ignore_errors=True)
                print(f'  {m} at depth {d}, {label}: {r["wall"]:.1f} s, peak RSS {r["rss_mb"] / 1024:.1f} GB', file=sys.stderr, flush=True)
    d1, d2 = a.depths
    gpu = lambda rs: '-' if not a.device.startswith('cuda') else f"{max(r['gpu_peak_gb'] for r in rs):.1f}"
    for m in a.methods:
        t1, t2 = runs[(m, d1)]['wall'], runs[(m, d2)]['wall']
        per = (t2 - t1) / (d2 - d1); fixed = t1 - per * d1
        rss = max(runs[(m, d)]['rss_mb'] for d in a.depths) / 1024
        say(f'| {m} | {t1:.1f} | {t2:.1f} | {per:.1f} | {fixed + per * a.layers:.0f} | {gpu([runs[(m, d)] for d in a.depths])} | {rss:.1f} | {read:.1f} | {runs[(m, d2)]["seconds"]:.1f} |')
    for m in a.once:
        r = runs[(m, d1)]
        say(f'| {m} (baseline, depth {d1} only) | {r["wall"]:.1f} | - | - | - | {gpu([r])} | {r["rss_mb"] / 1024:.1f} | {read:.1f} | {r["seconds"]:.1f} |')
    for methods, at, label, _ in variants:
        for m in methods:
            r = runs[(m, label)]
            t1s, t2s = (f'{r["wall"]:.1f}', '-') if at == d1 else ('-', f'{r["wall"]:.1f}')
            say(f'| {m}, {label} (depth {at} only) | {t1s} | {t2s} | - | - | {gpu([r])} | {r["rss_mb"] / 1024:.1f} | {read:.1f} | {r["seconds"]:.1f} |')
    print('\n'.join(lines), flush=True); lines.clear()        # the merge tables before the (longer) analysis
    if a.analyze: analysis(work, a, small, checkpoints(work, shaped(a.shape, d1), a.device), say); print('\n'.join(lines))

if __name__ == '__main__':
    main()
