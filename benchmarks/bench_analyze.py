"""Time and memory of `resm-analyze` against a TSV-M merge (`resm-merge`, method tsvm) of the same checkpoints.

Builds Llama-shaped random checkpoints (bf16, sharded safetensors; a base and three experts = base + seeded
noise, as `bench_engine.py` does) of the chosen shapes, then runs in child processes, interleaved and
`--repeat` times, `resm-analyze CONFIG OUT --device DEV` and `resm-merge` of the same config with
`merge_method: tsvm`, and reports wall time, CPU time (user + system of the child) and peak RSS (from wait4)
of each, and the ratios analyze / merge. Prints a Markdown table to stdout (each row also to stderr as it is
measured); never a pass/fail test.

Shapes (hidden, intermediate, layers, heads, kv heads, vocab): 50M, 200M as in `bench_engine.py`, and
`8B-1L` / `8B-2L`: Llama-3-8B's shapes (hidden 4096, intermediate 14336, vocab 128256) at depth 1 or 2.

    python benchmarks/bench_analyze.py --sizes 200M --repeat 2 --workdir /tmp/bench-analyze
    python benchmarks/bench_analyze.py --sizes 8B-1L --no-merge --per-tensor   # the analysis alone, TSV-M per tensor
"""
import argparse, json, os, shutil, sys, tempfile, time
from pathlib import Path
import torch, yaml
sys.path.insert(0, str(Path(__file__).parent))
import bench_engine
from bench_engine import build, child as run
from resm_nb.io import Checkpoint


def per_tensor(shapes):
    "CPU seconds of the analysis (`tensor_stats`) and of TSV-M (`merge_tensor`) on one tensor each of `shapes`, in this process."
    from resm_nb.analyze import tensor_stats
    from resm_nb.driver import merge_tensor
    from resm_nb.registry import get_method
    rp, out = get_method('resm').resolve(3, {}), []
    for key, shape in shapes:
        g = torch.Generator().manual_seed(0)
        base = (torch.randn(*shape, generator=g) * 0.02).bfloat16().float()
        experts = [(base + torch.randn(*shape, generator=g) * 0.002).bfloat16().float() for _ in range(3)]
        t = time.process_time(); tensor_stats(key, [e - base for e in experts], rp); ta = time.process_time() - t
        t = time.process_time(); merge_tensor('tsvm', base, experts, key=key); tm = time.process_time() - t
        out.append(f"| {key} {shape[0]}×{shape[1]} | {ta:.1f} | {tm:.1f} | {ta / tm:.2f} |")
        print(out[-1], file=sys.stderr, flush=True)
    return ['', '| tensor (random bf16 task vectors, 3 experts) | analysis CPU s | TSV-M CPU s | ratio |', '|---|---|---|---|'] + out

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', nargs='*', default=['200M'], choices=list(bench_engine.SHAPES), help='checkpoint shapes (none: only --per-tensor)')
    ap.add_argument('--repeat', type=int, default=1, help='runs of each tool (interleaved); the table shows the fastest')
    ap.add_argument('--workdir', default=None, help='where the checkpoints are built (kept, and reused when present)')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--no-merge', action='store_true', help='run the analysis only')
    ap.add_argument('--figures', action=argparse.BooleanOptionalAction, default=True, help='let resm-analyze draw its figures')
    ap.add_argument('--threads', type=int, default=None,
                    help='CPU threads of both tools (OMP_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS of the children)')
    ap.add_argument('--per-tensor', action='store_true', help="also time one tensor of each of Llama-3-8B's shapes in this process: "
                    'q_proj 4096 × 4096 and an eighth of the embeddings, 16032 × 4096 (a CPU TSV-M of a whole 8B-shaped checkpoint takes hours)')
    a = ap.parse_args()
    if a.threads:                                                       # for the children, and for BLAS loaded here later
        os.environ.update({v: str(a.threads) for v in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')})
    work = Path(a.workdir or tempfile.mkdtemp(prefix='resm-bench-analyze-'))
    bindir = Path(sys.executable).parent
    exe = {t: shutil.which(t, path=str(bindir)) or t for t in ('resm-analyze', 'resm-merge')}
    rows = [f"device: {a.device}, threads: {a.threads or f'default ({torch.get_num_threads()})'}, cpus: {os.cpu_count()}, "
            f"memory: {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB; times: fastest of {a.repeat} runs, "
            f"peak RSS: largest of them", '',
            '| size | params | tool | wall s | CPU s | peak RSS MB | analyze / merge: wall, CPU, RSS |', '|---|---|---|---|---|---|---|']
    for size in a.sizes:
        d = work/size
        build(d/'base', size, 0)
        for i in range(3): build(d/f'e{i}', size, i + 1, base=d/'base')
        n_params = sum(i.numel for i in Checkpoint(d/'base').infos())
        cfg = {'base_model': str(d/'base'), 'models': [{'model': str(d/f'e{i}'), 'name': n} for i, n in enumerate(['helpful', 'honest', 'harmless'])]}
        (d/'analyze.yml').write_text(yaml.safe_dump(dict(cfg, merge_method='resm')))
        (d/'tsvm.yml').write_text(yaml.safe_dump({'merge_method': 'tsvm', 'base_model': cfg['base_model'], 'dtype': 'bfloat16',
                                                  'models': [m['model'] for m in cfg['models']]}))
        cmds = {'resm-analyze': [exe['resm-analyze'], str(d/'analyze.yml'), str(d/'out-analyze'), '--overwrite', '--no-progress',
                                 '--device', a.device] + ([] if a.figures else ['--no-figures'])}
        if not a.no_merge:
            cmds['resm-merge tsvm'] = [exe['resm-merge'], str(d/'tsvm.yml'), str(d/'out-tsvm'), '--overwrite', '--no-progress', '--device', a.device]
        best = {}
        for rep in range(a.repeat):
            for tool, cmd in cmds.items():
                wall, cpu, rss, out = run(cmd)
                print(f"{size} {tool} run {rep + 1}: wall {wall:.1f} s, CPU {cpu:.1f} s, peak RSS {rss:.0f} MB", file=sys.stderr, flush=True)
                b = best.setdefault(tool, [wall, cpu, rss])
                best[tool] = [min(b[0], wall), min(b[1], cpu), max(b[2], rss)]
        summary = json.loads((d/'out-analyze'/'summary.json').read_text())
        for tool, (wall, cpu, rss) in best.items():
            ratio = ''
            if tool == 'resm-analyze' and 'resm-merge tsvm' in best:
                m = best['resm-merge tsvm']
                ratio = f"{wall / m[0]:.2f}, {cpu / m[1]:.2f}, {rss / m[2]:.2f}"
            rows.append(f"| {size} | {n_params / 1e6:.0f}M | {tool} | {wall:.1f} | {cpu:.1f} | {rss:.0f} | {ratio} |")
            print(rows[-1], file=sys.stderr, flush=True)
        rows.append(f"| {size} | | (resm-analyze's summary.json, last run) | {summary['seconds']:.1f} | | {summary['peak_rss_mb']:.0f} | |")
    if not a.sizes: rows = rows[:1]
    if a.per_tensor:
        if a.threads: torch.set_num_threads(a.threads)
        rows += per_tensor([('model.layers.0.self_attn.q_proj.weight', (4096, 4096)), ('model.embed_tokens.weight', (16032, 4096))])
    print('\n'.join(rows))

if __name__ == '__main__': main()
