"""Speed and memory of the streaming engine against mergekit and FusionBench, on the same checkpoints.

Builds Llama-shaped random checkpoints (bf16, sharded; a base and three experts = base + noise) of about
50M, 200M and 800M parameters, then for each method runs `resm-merge` in a child process and reports wall
time, peak RSS (from wait4) and the share of time spent reading. With `--peers PYTHON` (a virtualenv with
mergekit 0.1.5 and fusion-bench 0.2.33), runs in the same session `mergekit-yaml` (task_arithmetic, ties)
and FusionBench's TSV-M (`compute_and_sum_svd_mem_reduction`) on the same files, and the largest
difference between FusionBench's TSV-M and ours. Prints a Markdown table to stdout (each row also to stderr
as it is measured); never a pass/fail test.

    python benchmarks/bench_engine.py --sizes 50M 200M --peers /path/to/peers/bin/python --workdir /tmp/bench
    python benchmarks/bench_engine.py --sizes 200M --methods tsvm tsvm:svd=fast resm resm:svd=fast --peers ...

A method may carry parameters, `name:key=value,...` (as in `tsvm:svd=fast`). With `--repeat N` each method runs N
times, ours and the peer's alternately (so that drift of the machine, its page cache or its clock, falls on both
alike); the table gives medians, the range of the N runs and the range of the N paired ratios. FusionBench, which
runs once per size for every TSV-M variant, runs its N times after ours (paired by order, not interleaved).
"""
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time
from statistics import median
from pathlib import Path
import torch, yaml
from resm_nb.io import Checkpoint, SafetensorsWriter, atomic_folder

# Children are started with fork, not vfork: a child started with vfork inherits this process's peak RSS as its own
# (Linux records the old memory map's high-water mark at exec), so wait4 would report this script's peak instead of
# the child's: measured here, `python -c pass` after a freed 2 GB tensor showed 2267 MB with vfork and 144 MB with fork.
subprocess._USE_VFORK = False

SHAPES = {  # hidden, intermediate, layers, heads, kv heads, vocab  (parameters: about)
    '50M': (512, 1376, 8, 8, 2, 32000), '200M': (1024, 2816, 12, 16, 4, 32000), '800M': (2048, 5504, 14, 16, 4, 32000),
    '8B': (4096, 14336, 32, 32, 8, 128256),
    '8B-1L': (4096, 14336, 1, 32, 8, 128256), '8B-2L': (4096, 14336, 2, 32, 8, 128256)}   # Llama-3-8B's shapes at depth 1 or 2

def llama_tensors(h, inter, layers, heads, kv, vocab):
    "Names and shapes of a Llama checkpoint."
    hd = h // heads
    out = [('model.embed_tokens.weight', (vocab, h))]
    for l in range(layers):
        p = f'model.layers.{l}.'
        out += [(p + 'self_attn.q_proj.weight', (h, h)), (p + 'self_attn.k_proj.weight', (kv * hd, h)),
                (p + 'self_attn.v_proj.weight', (kv * hd, h)), (p + 'self_attn.o_proj.weight', (h, h)),
                (p + 'mlp.gate_proj.weight', (inter, h)), (p + 'mlp.up_proj.weight', (inter, h)),
                (p + 'mlp.down_proj.weight', (h, inter)), (p + 'input_layernorm.weight', (h,)),
                (p + 'post_attention_layernorm.weight', (h,))]
    return out + [('model.norm.weight', (h,)), ('lm_head.weight', (vocab, h))]

def build(folder:Path, size:str, seed:int, base:Path=None, shard='1GB', device:str='cpu'):
    "Write a random bf16 checkpoint tensor by tensor (an expert: the base plus seeded noise), drawn on `device`."
    if folder.exists(): return                # `device='cuda'` draws 10-20x faster (other numbers than the CPU's generator)
    h, inter, layers, heads, kv, vocab = SHAPES[size]
    names = llama_tensors(h, inter, layers, heads, kv, vocab)
    bck = Checkpoint(base) if base else None
    g = torch.Generator(device).manual_seed(seed)
    noise = lambda s: torch.randn(s, generator=g, device=device)
    with atomic_folder(folder) as tmp:
        w = SafetensorsWriter(tmp, [(n, s, torch.bfloat16) for n, s in names], shard)
        for n, s in names:
            t = noise(s) * 0.02 if bck is None else bck[n].to(device).float() + 0.002 * noise(s)
            w.write(n, t.to(torch.bfloat16).cpu())
        w.close()
        cfg = dict(architectures=['LlamaForCausalLM'], model_type='llama', hidden_size=h, intermediate_size=inter,
                   num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv, vocab_size=vocab,
                   max_position_embeddings=4096, rms_norm_eps=1e-5, tie_word_embeddings=False, torch_dtype='bfloat16')
        (tmp/'config.json').write_text(json.dumps(cfg))

def method_spec(spec:str, defaults:dict=None) -> tuple:
    "A method as given on the command line, `name` or `name:key=value,...` (e.g. `tsvm:svd=fast`): (name, parameters)."
    name, _, rest = spec.partition(':')
    params = dict((defaults or {}).get(name, {}))
    for kv in filter(None, rest.split(',')):
        k, _, v = kv.partition('=')
        params[k] = yaml.safe_load(v)
    return name, params

def child(cmd, env=None):
    "Run `cmd` in a child process; return (wall s, CPU s of the child (user + system), peak RSS MB of the child, stdout+stderr)."
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0: raise RuntimeError(f"{cmd[0]} failed:\n{out[-3000:]}")
    return secs, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, out

def run(cmd, env=None):
    "Run `cmd`; return (seconds, peak RSS in MB, stdout+stderr)."
    secs, _, rss, out = child(cmd, env)
    return secs, rss, out

def spread(xs, fmt='.1f') -> str:
    "` (N runs: lo-hi)` for several runs, '' for one."
    return f" ({len(xs)} runs: {min(xs):{fmt}}-{max(xs):{fmt}})" if len(xs) > 1 else ''

def ratio_note(ours, theirs) -> str:
    "ours/theirs time as medians, with the range of the paired (interleaved) ratios when there are several runs."
    r = [a / b for a, b in zip(ours, theirs)]
    return f"ours/theirs time {median(ours) / median(theirs):.2f}" + (f" (paired {min(r):.2f}-{max(r):.2f})" if len(r) > 1 else '')

def read_once(paths):
    "Seconds to read every tensor of every input once with the engine's reader."
    t0 = time.perf_counter()
    for p in paths:
        c = Checkpoint(p)
        for k in c: c[k]
    return time.perf_counter() - t0

FB = """
import sys, time, torch
from safetensors.torch import load_file, save_file
from pathlib import Path
from fusion_bench.method.task_singular_vector.utils.TSVM_utils import compute_and_sum_svd_mem_reduction
def load(d): 
    sd = {}
    for f in sorted(Path(d).glob('*.safetensors')): sd.update(load_file(f))
    return sd
base = load(sys.argv[1]); experts = [load(d) for d in sys.argv[2:5]]
taus = [{k: e[k].float() - base[k].float() for k in base} for e in experts]
del experts
merged = compute_and_sum_svd_mem_reduction(taus, accelerator='cpu')
out = {k: (base[k].float() + merged[k]).contiguous() for k in base}     # fp32, compared before rounding
Path(sys.argv[5]).mkdir(parents=True, exist_ok=True)
save_file(out, sys.argv[5] + '/model.safetensors')
"""

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', nargs='+', default=['50M', '200M'], choices=list(SHAPES))
    ap.add_argument('--methods', nargs='+', default=['task_arithmetic', 'ties', 'tsvm', 'resm'])
    ap.add_argument('--peers', default=os.environ.get('RESM_PEER_PYTHON'), help='python of a venv with mergekit and fusion-bench')
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--threads', type=int, default=None)
    ap.add_argument('--device', default='auto')
    ap.add_argument('--no-fusion-bench', action='store_true', help='skip FusionBench (it holds four models in memory)')
    ap.add_argument('--repeat', type=int, default=1, help='runs of each tool and method, ours and the peer alternately (medians)')
    a = ap.parse_args()
    work = Path(a.workdir or tempfile.mkdtemp(prefix='resm-bench-'))
    exe = shutil.which('resm-merge', path=str(Path(sys.executable).parent)) or 'resm-merge'
    params = {'task_arithmetic': {'lambda': 0.5}, 'ties': {'density': 0.5}, 'tsvm': {}, 'resm': {}}
    rows = [f"device: {a.device} (torch threads: {a.threads or torch.get_num_threads()}), cpus: {os.cpu_count()}", '',
            '| size | params | tool | method | wall s | peak RSS MB | read share | note |', '|---|---|---|---|---|---|---|---|']
    fb = {}
    limit = {v: str(a.threads) for v in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')} if a.threads else {}   # the peers too
    for size in a.sizes:
        d = work/size
        build(d/'base', size, 0)
        for i in range(3): build(d/f'e{i}', size, i + 1, base=d/'base')
        inputs = [d/'base'] + [d/f'e{i}' for i in range(3)]
        n_params = sum(i.numel for i in Checkpoint(d/'base').infos())
        t_read = read_once(inputs)
        rows.append(f"| {size} | {n_params/1e6:.0f}M | read inputs once | - | {t_read:.1f} | - | - | 4 × {n_params*2/1e9:.2f} GB bf16 |")
        print(rows[-1], file=sys.stderr, flush=True)
        for method in a.methods:
            # TSV-M is compared with FusionBench before rounding, so both write fp32; the others store bf16
            name, mparams = method_spec(method, params)
            out_dtype = 'float32' if name == 'tsvm' and a.peers and not a.no_fusion_bench else 'bfloat16'
            tag = method.replace(':', '-').replace('=', '-').replace(',', '-')
            cfg = {'merge_method': name, 'base_model': str(d/'base'), 'models': [str(p) for p in inputs[1:]],
                   'parameters': mparams, 'dtype': out_dtype}
            (d/f'{tag}.yml').write_text(yaml.safe_dump(cfg))
            out = d/f'out-resm-{tag}'
            cmd = [exe, str(d/f'{tag}.yml'), str(out), '--overwrite', '--no-progress', '--device', a.device]
            if a.threads: cmd += ['--threads', str(a.threads)]
            peer = a.peers and method in ('task_arithmetic', 'ties')
            if peer:
                mk = Path(a.peers).parent/'mergekit-yaml'
                mcfg = {'merge_method': method, 'base_model': str(d/'base'), 'dtype': 'bfloat16',
                        'models': [{'model': str(p), 'parameters': {'weight': 1.0, **params[method]}} for p in inputs[1:]]}
                if method == 'task_arithmetic': mcfg['models'] = [{'model': str(p), 'parameters': {'weight': 1.0}} for p in inputs[1:]]; mcfg['parameters'] = {'lambda': 0.5}
                (d/f'mk-{method}.yml').write_text(yaml.safe_dump(mcfg))
                env = dict(os.environ, HF_HUB_OFFLINE='1', PYTHONPATH='', **limit)
                mcmd = [str(mk), str(d/f'mk-{method}.yml'), str(d/f'out-mk-{method}'), '--quiet', '--allow-crimes']
                if a.threads: mcmd += ['-j', str(a.threads)]
            ours, theirs = [], []                       # (seconds, peak RSS MB, log) of each run, interleaved
            for _ in range(a.repeat):
                if out.exists(): shutil.rmtree(out)
                ours.append(run(cmd))
                if peer:
                    if (d/f'out-mk-{method}').exists(): shutil.rmtree(d/f'out-mk-{method}')   # the same work each run
                    theirs.append(run(mcmd, env))
            secs = [r[0] for r in ours]
            m = re.search(r'\(reading ([\d.]+) s\)', ours[-1][2])
            share = f"{float(m[1]) / secs[-1]:.0%}" if m else 'mapped' if 'inputs mapped' in ours[-1][2] else '?'
            rows.append(f"| {size} | {n_params/1e6:.0f}M | resm_nb | {method} | {median(secs):.1f}{spread(secs)} | {max(r[1] for r in ours):.0f} | {share} | |")
            print(rows[-1], file=sys.stderr, flush=True)
            if peer:
                secs_m = [r[0] for r in theirs]
                diff = max(float((Checkpoint(out)[k].float() - Checkpoint(d/f'out-mk-{method}')[k].float()).abs().max()) for k in Checkpoint(out))
                rows.append(f"| {size} | {n_params/1e6:.0f}M | mergekit 0.1.5 | {method} | {median(secs_m):.1f}{spread(secs_m)} | {max(r[1] for r in theirs):.0f} | - | "
                            f"{ratio_note(secs, secs_m)}; max |Δ| {diff:.2g} (bf16 compute there) |")
                print(rows[-1], file=sys.stderr, flush=True)
            if a.peers and name == 'tsvm' and not a.no_fusion_bench:        # FusionBench runs once per size, for every TSV-M variant
                if size not in fb:
                    (d/'fb.py').write_text(FB)
                    fb[size] = [run([a.peers, str(d/'fb.py'), *map(str, inputs), str(d/'out-fb')], dict(os.environ, PYTHONPATH='', **limit))[:2]
                                for _ in range(a.repeat)]
                secs_f = [r[0] for r in fb[size]]
                c_ours, c_fb = Checkpoint(out), Checkpoint(d/'out-fb')
                diff = max(float((c_ours[k].float() - c_fb[k].float()).abs().max()) for k in c_ours)
                rows.append(f"| {size} | {n_params/1e6:.0f}M | FusionBench 0.2.33 | tsvm (against {method}) | {median(secs_f):.1f}{spread(secs_f)} | "
                            f"{max(r[1] for r in fb[size]):.0f} | - | {ratio_note(secs, secs_f)}; max |Δ| {diff:.2g} (fp32 outputs) |")
                print(rows[-1], file=sys.stderr, flush=True)
    print('\n'.join(rows))

if __name__ == '__main__': main()
