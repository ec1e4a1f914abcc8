"""Execute notebooks in place and store their outputs, deterministically, so GitHub and the docs site show them.

    python tools/run_notebooks.py                      # every notebook in nbs/ (index.ipynb too)
    python tools/run_notebooks.py 03_taskvec 05_tsvm   # some of them (names, stems or paths)
    python tools/run_notebooks.py --nbs /tmp/copy/nbs 05_tsvm

Cells are run as nbdev's test runner runs them (execnb's CaptureShell, in the notebook's folder, with the
repository on sys.path), each notebook in a fresh process. Cells flagged `#| eval: false` or with a flag
from settings.ini's `tst_flags` (`notest slow gpu`) are not run and keep no output. For outputs that do not
change between runs: PYTHONHASHSEED=0, one thread (OMP_NUM_THREADS=1, torch.set_num_threads(1)), seeds 0 for
random, numpy and torch at the start, progress bars off (TQDM_DISABLE=1) and any progress-bar or timing
stderr dropped, paths that differ between runs or machines (the repository, temporary folders, object
addresses) written as `<repo>`, `<tmp>` and `0x…`, and durations and memory peaks that a cell prints
(`in 0.4 s`, `peak RSS 424 MB`) as `…`, except in a cell marked `#| scrub: false` (one that prints a
committed file of measurements, whose numbers are the point). The testbed models are trained once per run into one
cache (RESM_TEST_CACHE, as the test suite does; `--cache DIR` keeps it for the next run). A notebook whose
cell raises is left unchanged and the run fails. The notebooks are then cleaned with `nbdev_clean` (outputs
kept), so tests/test_sync.py still passes.
"""
from __future__ import annotations
import argparse, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {'PYTHONHASHSEED': '0', 'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'TQDM_DISABLE': '1',
       'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1'}
SETUP = """\
import random, numpy as np
random.seed(0); np.random.seed(0)
try:
    import torch; torch.manual_seed(0); torch.set_num_threads(1)
except ImportError: pass
"""
# stderr that only reports progress or time: tqdm bars, carriage-return updates, "... in 3.2 s" lines
PROGRESS = re.compile(r'\r|\d+%\|| \d+/\d+ \[|it/s\]|s/it\]|\[\d+:\d+<|\b(elapsed|ETA)\b|\b\d+(\.\d+)?\s?(s|ms|sec|seconds|min)\b')

def skip_flags() -> set:
    "The flags of settings.ini's `tst_flags`: cells carrying one are not run."
    for l in (ROOT/'settings.ini').read_text().splitlines():
        if l.strip().startswith('tst_flags'): return set(l.split('=', 1)[1].split())
    return set()

def _directives(src:str) -> dict:
    d = {}
    for l in src.splitlines():
        m = re.match(r'^\s*#\|\s?(.*?)\s*$', l)
        if not m or not m.group(1): continue
        k, sep, v = m.group(1).partition(':')
        if not sep: k, _, v = m.group(1).partition(' ')
        d[k.strip()] = v.strip()
    return d

def skipped(source:str, flags:set) -> bool:
    "Whether a code cell is not run: `#| eval: false`, or a flag from `flags`."
    d = _directives(source)
    return d.get('eval', '').lower() == 'false' or bool(flags & set(d))

# printed measurements that change from run to run: durations and memory peaks, written as `…`
VOLATILE = [(re.compile(r'\b\d+(?:\.\d+)?(?=\s?(?:ms|s|sec|secs|seconds|min|minutes)\b)'), '…'),
            (re.compile(r'\b((?:peak )?RSS:?\s?)\d+(?:\.\d+)?'), r'\1…')]

def _scrub_text(s:str, subs) -> str:
    for pat, rep in subs: s = pat.sub(rep, s)
    return s

def clean_outputs(outputs:list, subs, volatile:bool=True) -> list:
    "Outputs without progress or timing stderr, with run-dependent paths and addresses replaced (and printed durations, if `volatile`)."
    out = []
    for o in outputs:
        if o.get('output_type') == 'stream':
            text = ''.join(o['text']) if isinstance(o['text'], list) else o['text']
            if o.get('name') == 'stderr':
                text = ''.join(l for l in text.splitlines(True) if not PROGRESS.search(l))
            text = _scrub_text(text, subs + (VOLATILE if volatile else []))
            if not text.strip(): continue
            o['text'] = text.splitlines(True)
        elif o.get('output_type') in ('execute_result', 'display_data'):
            for k, v in o.get('data', {}).items():
                if k.startswith('text/'):
                    s = ''.join(v) if isinstance(v, list) else v
                    o['data'][k] = _scrub_text(s, subs).splitlines(True)
        elif o.get('output_type') == 'error':
            o['traceback'] = [_scrub_text(t, subs) for t in o.get('traceback', [])]
        out.append(o)
    return out

def run_one(path:Path) -> float:
    "Execute notebook `path` in this process and write it back with its outputs; raise on a failing cell."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    os.environ['IN_TEST'] = '1'                  # as nbdev's test runner: notebooks may check it
    sys.path.insert(0, str(ROOT))
    nb, flags, t0 = read_nb(path), skip_flags(), time.time()
    tmp = re.escape(tempfile.gettempdir().rstrip('/'))
    subs = [(re.compile(re.escape(str(ROOT))), '<repo>'),
            (re.compile(tmp + r'/[A-Za-z0-9_.+-]+'), '<tmp>'),
            (re.compile(r'\b0x[0-9a-fA-F]{6,}\b'), '0x…')]
    shell = CaptureShell(path)
    shell.run_cell(SETUP)
    cwd = os.getcwd(); os.chdir(path.parent)
    try:
        for i, c in enumerate(nb.cells):
            if c.cell_type != 'code': continue
            c.outputs, c.execution_count = [], None
            if skipped(c.source, flags): continue
            shell.cell(c)
            if shell.exc: raise RuntimeError(f'{path.name}: cell {i} failed\n' + shell.prettytb(fname=path))
            c.outputs = clean_outputs(list(c.get('outputs', [])), subs, _directives(c.source).get('scrub', '').lower() != 'false')
    finally: os.chdir(cwd)
    write_nb(nb, path)
    return time.time() - t0

def find(names, nbs:Path) -> list:
    "Notebook paths for `names` (file names, stems or paths); every notebook in `nbs` when none."
    if not names: return sorted(p for p in nbs.glob('*.ipynb') if not p.name.startswith('_'))
    out = []
    for n in names:
        p = Path(n)
        cands = [p, nbs/p.name, nbs/f'{p.name}.ipynb'] + sorted(nbs.glob(f'{p.name}*.ipynb'))
        hit = next((c for c in cands if c.suffix == '.ipynb' and c.is_file()), None)
        if hit is None: raise SystemExit(f'no notebook {n!r} in {nbs}')
        out.append(hit.resolve())
    return out

def nbdev_clean(paths):
    "nbdev_clean each notebook (outputs kept), as the repository's hooks and tests/test_sync.py expect."
    exe = shutil.which('nbdev_clean', path=str(Path(sys.executable).parent)) or shutil.which('nbdev_clean')
    for p in paths: subprocess.run([exe, '--fname', str(p)], check=True, cwd=ROOT)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], allow_abbrev=False,
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split('\n\n', 1)[1])
    ap.add_argument('names', nargs='*', help='notebooks to run (default: all in --nbs)')
    ap.add_argument('--nbs', type=Path, default=ROOT/'nbs', help='folder of the notebooks (default: nbs/)')
    ap.add_argument('--cache', type=Path, default=None, help='testbed model cache shared by the notebooks (default: a temporary folder)')
    ap.add_argument('--one', action='store_true', help=argparse.SUPPRESS)      # internal: run one notebook here
    a = ap.parse_args(argv)
    if a.one:
        print(f'{a.names[0]}: {run_one(Path(a.names[0])):.0f} s', flush=True)
        return
    paths = find(a.names, a.nbs)
    cache = a.cache or Path(tempfile.mkdtemp(prefix='resm-nb-cache-'))
    env = dict(os.environ, **ENV, RESM_TEST_CACHE=str(cache))
    failed = []
    try:
        for p in paths:
            r = subprocess.run([sys.executable, __file__, '--one', str(p)], env=env, cwd=ROOT)
            if r.returncode: failed.append(p.name)
            else: nbdev_clean([p])
    finally:
        if a.cache is None: shutil.rmtree(cache, ignore_errors=True)
    if failed: raise SystemExit(f'failed (left unchanged): {" ".join(failed)}')

if __name__ == '__main__': main()
