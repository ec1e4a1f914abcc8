"""RESM (`svd: fast`) of one large layer matrix, read whole or in blocks of rows (`stream_robust`): time, peak RSS, agreement.

Layer matrices up to `resm_nb.tsvm.RESM_STREAM_NUMEL` entries (2²⁷) are weighted and merged whole; bigger ones in
blocks, with the median and MAD of the whole tensor found in two passes. This script builds a base and three experts
holding one matrix (default: Llama-3-8B's MLP shape, 14336 × 4096, bf16; experts = base + noise, some entries
unchanged) and merges it both ways, each in a child process with one thread (the limit set above or below the size),
reporting wall time, peak RSS (wait4) and the largest difference between the two outputs. Never a pass/fail test.

    python benchmarks/bench_resm_stream.py --rows 14336 --cols 4096 --workdir /tmp/bench
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path
import torch
from resm_nb.io import Checkpoint, SafetensorsWriter, atomic_folder

subprocess._USE_VFORK = False          # see bench_engine.py: a vfork child would report this process's peak RSS
KEY = 'model.layers.0.mlp.up_proj.weight'

CHILD = """
import sys, torch, yaml
import resm_nb.tsvm as tv
from resm_nb.engine import merge
limit, cfg, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
tv.RESM_STREAM_NUMEL = limit
merge(cfg, out, overwrite=True, device='cpu', threads=1, progress=False)
"""

def build(folder:Path, shape, seed:int, base:Path=None):
    "A checkpoint holding one bf16 matrix `KEY` (an expert: the base plus noise on about 70% of the entries)."
    if folder.exists(): return
    g = torch.Generator().manual_seed(seed)
    with atomic_folder(folder) as tmp:
        w = SafetensorsWriter(tmp, [(KEY, shape, torch.bfloat16)], '2GB')
        if base is None: t = torch.randn(shape, generator=g) * 0.02
        else: t = Checkpoint(base)[KEY].float() + 0.002 * torch.randn(shape, generator=g) * (torch.rand(shape, generator=g) < 0.7)
        w.write(KEY, t.to(torch.bfloat16)); w.close()
        (tmp/'config.json').write_text(json.dumps({'architectures': ['LlamaForCausalLM'], 'model_type': 'llama'}))

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--rows', type=int, default=14336); ap.add_argument('--cols', type=int, default=4096)
    ap.add_argument('--workdir', default='/tmp/resm-bench')
    a = ap.parse_args()
    d = Path(a.workdir) / f'resm-stream-{a.rows}x{a.cols}'
    build(d/'base', (a.rows, a.cols), 0)
    for i in range(3): build(d/f'e{i}', (a.rows, a.cols), i + 1, base=d/'base')
    cfg = d/'resm.yml'
    cfg.write_text(json.dumps({'merge_method': 'resm', 'base_model': str(d/'base'), 'models': [str(d/f'e{i}') for i in range(3)],
                               'parameters': {'svd': 'fast'}, 'dtype': 'float32'}))
    print(f'| {a.rows} × {a.cols}, 3 experts, one thread | wall s | peak RSS GB |'); print('|---|---|---|')
    for name, limit in [('whole', 2**62), ('blocks (stream_robust)', 0)]:
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, '-c', CHILD, str(limit), str(cfg), str(d/f'out-{limit}')], stderr=subprocess.PIPE, text=True)
        err = p.stderr.read(); _, st, ru = os.wait4(p.pid, 0)
        if os.waitstatus_to_exitcode(st): raise RuntimeError(err[-3000:])
        print(f'| {name} | {time.perf_counter() - t0:.1f} | {ru.ru_maxrss / 2**20:.2f} |', flush=True)
    x, y = Checkpoint(d/f'out-{2**62}')[KEY], Checkpoint(d/'out-0')[KEY]
    m = x - Checkpoint(d/'base')[KEY].float()
    print(f'\nmax |Δ| between the two merges: {float((x - y).abs().max()):.2e}; relative Frobenius difference of M: '
          f'{float((x - y).norm() / m.norm()):.2e}')

if __name__ == '__main__':
    main()
