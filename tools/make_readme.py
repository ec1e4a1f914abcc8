"""Write README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which cannot be installed here).

The notebook is executed first (so generated parts, such as the methods table, are current), then cells
marked `#| hide` are dropped and `#|` directive lines removed, as nbdev does, and the rest is converted
with nbconvert's Markdown exporter. `python tools/make_readme.py` rewrites README.md and stores the
executed outputs in nbs/index.ipynb; `tests/test_sync.py` fails when README.md differs from a fresh run.
"""
import copy, subprocess, sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter
from nbconvert.preprocessors import ExecutePreprocessor, TagRemovePreprocessor

ROOT = Path(__file__).resolve().parent.parent
INDEX = ROOT/'nbs'/'index.ipynb'
HEADER = '<!-- Generated from nbs/index.ipynb by tools/make_readme.py; edit the notebook, not this file. -->\n\n'

def execute(nb_path=INDEX):
    "The index notebook, executed in nbs/."
    nb = nbformat.read(nb_path, as_version=4)
    ExecutePreprocessor(timeout=600, kernel_name='python3').preprocess(nb, {'metadata': {'path': str(nb_path.parent)}})
    return nb

def squeeze_blank_lines(md:str) -> str:
    "Runs of blank lines outside fenced code blocks as one (hidden-input cells leave several; Markdown reads them as one)."
    out, fence = [], False
    for line in md.split('\n'):
        if line.lstrip().startswith('```'): fence = not fence
        if not fence and not line.strip() and out and not out[-1].strip(): continue
        out.append(line)
    return '\n'.join(out)

def to_markdown(nb) -> str:
    "README text from an executed notebook."
    nb = copy.deepcopy(nb)
    cells = []
    for c in nb.cells:
        lines = c.source.splitlines()
        if any(l.strip().replace(' ', '') in ('#|hide', '#|exporti', '#|export') for l in lines): continue
        if any(l.strip().replace(' ', '') == '#|echo:false' for l in lines):
            c.metadata.setdefault('tags', []).append('hide-input')       # nbdev: show the output only
        c.source = '\n'.join(l for l in lines if not l.lstrip().startswith('#|')).strip('\n')
        if c.source: cells.append(c)
    nb.cells = cells
    exporter = MarkdownExporter()
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={'hide-input'}), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    return HEADER + squeeze_blank_lines(body).strip() + '\n'

def render_readme() -> str: return to_markdown(execute())

if __name__ == '__main__':
    nb = execute()
    nbformat.write(nb, INDEX)
    subprocess.run([str(Path(sys.executable).parent/'nbdev_clean'), '--fname', str(INDEX)], check=True, cwd=ROOT)
    (ROOT/'README.md').write_text(to_markdown(nb))
    print('wrote', ROOT/'README.md')
