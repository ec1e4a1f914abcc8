"""Build the docs site: `python tools/build_docs.py` writes `_site/` (open `_site/index.html`, or serve it with
`python -m http.server -d _site`).

The site is made of the notebooks in nbs/ rendered with the outputs they store (nothing is executed here:
`python tools/run_notebooks.py` stores deterministic outputs first), in one section per part of the package
(merge library and engine: 00-08; 3H testbed: 09-13 and 15; analyses: 14 and 16), with nbs/index.ipynb as
the home page, and an API reference with a page per module for every name in its `__all__` plus a page of
the merge methods with their formula and paper (from `resm_nb.registry.methods_table`). Search is Sphinx's
client-side index and math is MathJax 3 served from the site itself (the static files of the PyPI package
sphinx-mathjax-offline), so the site works offline. Warnings are errors (`sphinx-build -W`).

The notebooks are staged first into a temporary folder, as nbdev would process them for its docs: cells
marked `#| hide` (and `default_exp`, `exporti`) are dropped, `#|` directive lines removed, `#| echo: false`
shows only the output, `#| output: false` only the code, and `show_doc(name)` cells become the name's API
entry. The Sphinx configuration is docs/conf.py, the merge-methods page docs/merge_methods.md.

Why Sphinx + myst-nb + furo: both candidates were tried on these notebooks. mkdocs-material + mkdocs-jupyter
+ mkdocstrings built them too, but Material for MkDocs announces its end of life (May 2027) in every build
and MkDocs 1.x warns of an incompatible 2.0, and mkdocs-jupyter's nbconvert pages load scripts (mermaid)
from a CDN; Sphinx + myst-nb is maintained, renders notebook outputs as native, searchable pages, imports
the package so the API reference follows each module's real `__all__`, and -W makes every problem an error.
"""
from __future__ import annotations
import argparse, importlib, inspect, json, os, re, shutil, subprocess, sys, tempfile, time
from importlib import metadata
from pathlib import Path
TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path: sys.path.insert(0, str(TOOLS))      # modmap, beside this file

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT/'docs'
SECTIONS = [('Merge library and engine', list(range(0, 9))), ('3H testbed', [9, 10, 11, 12, 13, 15]),
            ('Analyses', [14, 16]), ('Tutorial', [17])]
DIRECTIVE = re.compile(r'^\s*#\|\s?(.*?)\s*$')
DROP = {'hide', 'default_exp', 'exporti'}
LINK = re.compile(r'(!?)\[([^\]]*)\]\(([^)\s]+)\)')

def directives(src:str) -> dict:
    "nbdev directives of a cell (`#| key: value` or `#| key value`), key → value."
    d = {}
    for l in src.splitlines():
        m = DIRECTIVE.match(l)
        if not m or not m.group(1): continue
        k, sep, v = m.group(1).partition(':')
        if not sep: k, _, v = m.group(1).partition(' ')
        d[k.strip()] = v.strip()
    return d

def _api_directive(obj, full:str, no_index:bool=False) -> str:
    "An autodoc entry for `obj`, documented as `full` (autodoc writes reStructuredText: an eval-rst block)."
    opts = ['   :no-index:'] if no_index else []
    if inspect.isclass(obj):
        lines = [f'.. autoclass:: {full}'] + opts + ([] if no_index else ['   :members:'])
    elif callable(obj) and not _is_method(obj): lines = [f'.. autofunction:: {full}'] + opts
    else:       # a constant: its value when short (autodata would show the docstring of its type)
        v = repr(obj)
        mod, _, short = full.rpartition('.')
        lines = [f'.. py:data:: {short}', f'   :module: {mod}'] + opts + ([f'   :value: {v}'] if len(v) <= 80 and '\n' not in v else [f'   :type: {type(obj).__name__}'])
        if type(obj).__name__ == 'Param':       # a shared method parameter: say what it is
            lines += ['', f'   Merge-method parameter ``{obj.name}``, default ``{obj.default!r}``'
                      + (', per model' if obj.per_model else '') + (f': {_rst_text(obj.doc)}' if obj.doc else '') + '.']
    return '```{eval-rst}\n' + '\n'.join(lines) + '\n```\n'

def _rst_text(text:str) -> str:
    "Plain text escaped for reStructuredText."
    return re.sub(r'([\\*|_`<>\[\]])', r'\\\1', text)

def _is_method(obj) -> bool:
    from resm_nb.methods import MergeMethod
    return isinstance(obj, MergeMethod)

def _merge_method_entry(obj, full:str) -> str:
    "API entry of a registered merge method: its function's docstring, formula, paper and parameters."
    params = '\n'.join(f"- `{p.name}`{' (per model)' if p.per_model else ''}, default `{p.default!r}`"
                       + (f": {p.doc}" if p.doc else '') for p in obj.params)
    doc = inspect.getdoc(obj.fn) or ''
    mod, _, short = full.rpartition('.')
    return (f"```{{py:data}} {short}\n:module: {mod}\n:type: MergeMethod\n\n{doc}\n\nMerge method `{obj.name}`: {obj.formula}\n\n"
            f"Paper: {obj.paper}\n\nParameters:\n\n{params}\n```\n")

def _link(src_dir:Path, stage_dir:Path, stage:Path, m) -> str:
    "Keep a Markdown link whose target is a notebook, a URL or a repository file (copied into the stage); else its text."
    bang, text, target = m.groups()
    if re.match(r'^[a-z]+:|^#|^/', target): return m.group(0)
    path = target.split('#')[0]
    f = (src_dir/path).resolve()
    if f.suffix == '.ipynb' and f.exists(): return m.group(0)
    if f.is_file() and ROOT in f.parents:
        dst = (stage_dir/path).resolve()
        if stage in dst.parents:
            dst.parent.mkdir(parents=True, exist_ok=True); shutil.copyfile(f, dst)
            return m.group(0)
    return m.group(0) if bang else text        # a folder or a missing file: the text alone (images are kept: -W tells)

def process_notebook(src:Path, dst:Path, stage:Path, module:str|None=None, link_dir:Path|None=None):
    "Write `src` to `dst` as the docs show it (see the module docstring)."
    import nbformat
    nb = nbformat.read(src, as_version=4)
    cells = []
    for c in nb.cells:
        d = directives(c.source) if c.cell_type == 'code' else {}
        if DROP & set(d): continue
        if c.cell_type == 'markdown':
            c.source = LINK.sub(lambda m: _link(link_dir or src.parent, dst.parent, stage, m), c.source)
        elif c.cell_type == 'code':
            c.source = '\n'.join(l for l in c.source.splitlines() if not DIRECTIVE.match(l)).strip('\n')
            if not c.source: continue
            sd = re.fullmatch(r'show_doc\((\w+)\)', c.source.strip())
            if sd and module:
                mod = importlib.import_module(module)
                if hasattr(mod, sd.group(1)):
                    obj = getattr(mod, sd.group(1))
                    cells.append(nbformat.v4.new_markdown_cell(_api_directive(obj, f'{module}.{sd.group(1)}', no_index=True)))
                continue
            tags = c.metadata.setdefault('tags', [])
            if d.get('echo') == 'false': tags.append('remove-input')
            if d.get('output') == 'false': tags.append('remove-output')
            for o in c.get('outputs', []):       # Mermaid needs a script from a CDN: the module map as an SVG drawn here
                md = o.get('data', {}).get('text/markdown')
                if md and '```mermaid' in md:
                    from modmap import svg
                    o['data'] = {'image/svg+xml': svg(), 'text/plain': 'the module map'}
        cells.append(c)
    nb.cells = cells
    nb.metadata['language_info'] = {'name': 'python'}
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    nb.metadata.pop('jupytext', None)
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)
    return nb

def default_exp(nb_path:Path) -> str|None:
    "The module a notebook exports to (its `#| default_exp`)."
    for c in json.loads(nb_path.read_text())['cells']:
        if c['cell_type'] == 'code':
            m = re.search(r'^#\|\s*default_exp\s+(\S+)', ''.join(c['source']), re.M)
            if m: return m.group(1)

def api_pages(stage:Path, modules:dict):
    "api/index.md, api/merge_methods.md and one page per module (`modules`: module → notebook stem, in notebook order)."
    from resm_nb.registry import methods_table
    api = stage/'api'; api.mkdir(parents=True, exist_ok=True)
    (api/'merge_methods.md').write_text((DOCS/'merge_methods.md').read_text().replace('{{ methods_table }}', methods_table()))
    for name, nb in modules.items():
        mod = importlib.import_module(f'resm_nb.{name}')
        head = (mod.__doc__ or '').strip()
        parts = [f'# resm_nb.{name}\n', head + '\n' if head else '', f'From the notebook [{nb}](../nbs/{nb}.ipynb).\n',
                 f'```{{py:module}} resm_nb.{name}\n```\n', f'```{{py:currentmodule}} resm_nb.{name}\n```\n']
        for k in mod.__all__:
            obj, full = getattr(mod, k), f'resm_nb.{name}.{k}'
            parts.append(_merge_method_entry(obj, full) if _is_method(obj) else _api_directive(obj, full))
        (api/f'{name}.md').write_text('\n'.join(parts))
    (api/'index.md').write_text('# API reference\n\nEvery name exported by each module (its `__all__`), '
        'in the order of its notebook.\n\n```{toctree}\n:maxdepth: 1\n\nmerge_methods\n' + '\n'.join(modules) + '\n```\n')

def mathjax_dir() -> Path:
    "MathJax 3's static files from the installed sphinx-mathjax-offline distribution."
    d = Path(metadata.distribution('sphinx-mathjax-offline').locate_file('sphinx-mathjax-offline/static/mathjax'))
    if not (d/'tex-chtml.js').exists(): raise SystemExit(f'MathJax files not found in {d}: pip install -e ".[dev]"')
    return d

def stage(nbs:Path, stage:Path) -> Path:
    "Write the Sphinx source folder `stage` from the notebooks in `nbs`."
    stage.mkdir(parents=True, exist_ok=True)
    shutil.copy(DOCS/'conf.py', stage/'conf.py')
    shutil.copytree(DOCS/'_static', stage/'_static', dirs_exist_ok=True)
    mj = mathjax_dir(); (stage/'_static'/'mathjax').mkdir(parents=True, exist_ok=True)
    for p in ['tex-chtml.js', 'input', 'output', 'ui', 'a11y', 'sre', 'adaptors']:
        if (mj/p).is_dir(): shutil.copytree(mj/p, stage/'_static'/'mathjax'/p, dirs_exist_ok=True)
        else: shutil.copy(mj/p, stage/'_static'/'mathjax'/p)
    pages, modules = {}, {}
    for p in sorted(nbs.glob('[0-9][0-9]_*.ipynb')):
        mod = default_exp(p)
        process_notebook(p, stage/'nbs'/p.name, stage, module=f'resm_nb.{mod}' if mod else None, link_dir=ROOT/'nbs')
        pages[int(p.name[:2])] = p.stem
        if mod: modules[mod] = p.stem
    missing = sorted(set(n for _, ns in SECTIONS for n in ns) - set(pages))
    if missing: print(f'note: no notebook numbered {missing} in {nbs}', file=sys.stderr)
    placed = {n for _, ns in SECTIONS for n in ns}
    extra = [n for n in pages if n not in placed]
    sections = SECTIONS + ([('More notebooks', extra)] if extra else [])
    # The home page: nbs/index.ipynb, whose links are relative to the repository root (it is also the README).
    import nbformat
    idx = process_notebook(nbs/'index.ipynb', stage/'index.ipynb', stage, link_dir=ROOT)
    toc = ''.join(f"```{{toctree}}\n:caption: {cap}\n:maxdepth: 1\n\n" + ''.join(f'nbs/{pages[n]}\n' for n in ns if n in pages) + '```\n\n'
                  for cap, ns in sections if any(n in pages for n in ns))
    toc += "```{toctree}\n:caption: API reference\n:maxdepth: 1\n\napi/index\n```\n"
    idx.cells.append(nbformat.v4.new_markdown_cell('## Contents\n\n' + toc))
    nbformat.write(idx, stage/'index.ipynb')
    api_pages(stage, modules)
    return stage

def build(nbs=ROOT/'nbs', out=ROOT/'_site', keep_stage:Path|None=None, quiet:bool=True) -> Path:
    "Stage the notebooks of `nbs`, run sphinx-build -W into `out` (replaced); raise CalledProcessError on a warning."
    out, t0 = Path(out).resolve(), time.time()
    if out.exists() and any(out.iterdir()) and not (out/'.buildinfo').exists():
        raise SystemExit(f'{out} exists and is not a previous docs build: not replacing it')
    tmp = tempfile.mkdtemp(prefix='resm-docs-')
    try:
        src = stage(Path(nbs), Path(keep_stage) if keep_stage else Path(tmp)/'src')
        html = Path(tmp)/'build'/'html'      # myst-nb writes next to the output folder (build/jupyter_execute): kept in tmp
        cmd = [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-E', '-b', 'html', '-d', str(Path(tmp)/'doctrees'),
               str(src), str(html)] + (['-q'] if quiet else [])
        env = dict(os.environ, PYTHONWARNINGS='ignore')      # Python warnings at import are not docs warnings
        subprocess.run(cmd, check=True, cwd=ROOT, env=env)
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(html, out)
    finally: shutil.rmtree(tmp, ignore_errors=True)
    print(f'docs built in {time.time() - t0:.0f} s: {out}/index.html')
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], allow_abbrev=False,
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument('--nbs', type=Path, default=ROOT/'nbs', help='folder of the notebooks to render')
    ap.add_argument('--out', type=Path, default=ROOT/'_site', help='output folder (replaced)')
    ap.add_argument('--keep-stage', type=Path, default=None, help='write the Sphinx source folder here and keep it')
    ap.add_argument('--verbose', action='store_true', help="show sphinx-build's progress")
    a = ap.parse_args(argv)
    try: build(a.nbs, a.out, a.keep_stage, quiet=not a.verbose)
    except subprocess.CalledProcessError as e: raise SystemExit(f'docs build failed (warnings are errors): exit {e.returncode}')

if __name__ == '__main__': main()
