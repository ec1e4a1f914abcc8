"""The docs site: `tools/build_docs.py` builds it with warnings as errors, it is complete (every section, every
exported name, every merge method with formula and paper, search, MathJax served locally) and two pages render
in headless Chromium: a notebook figure shows and formulas are typeset (and the search page finds a function).

The site is built once per session from a copy of nbs/ in which `tools/run_notebooks.py` has stored the
outputs of one cheap notebook that draws figures (05_tsvm, ~10 s), unless it already has them; the other
notebooks are built as they are stored. The Chromium part is skipped when Debian's `chromium` is not on PATH
(CI installs it; `apt-get install chromium`).
"""
import functools, http.server, importlib, json, pkgutil, re, shutil, subprocess, sys, tempfile, threading
from pathlib import Path
import numpy as np, pytest

ROOT = Path(__file__).resolve().parent.parent
FIG_NB = '05_tsvm'                 # draws two figures and runs in seconds
MATH_PAGE = 'api/merge_methods.html'
CHROMIUM = shutil.which('chromium')
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not on PATH (apt-get install chromium): "
                                    "the pages are built and checked, but not rendered")

def _has_image(nb:Path) -> bool:
    cells = json.loads(nb.read_text())['cells']
    return any('image/png' in o.get('data', {}) for c in cells for o in c.get('outputs', []))

@pytest.fixture(scope='session')
def site(tmp_path_factory):
    "The docs built (warnings are errors) from a copy of nbs/ in which FIG_NB has its outputs."
    import build_docs
    d = tmp_path_factory.mktemp('docs')
    nbs = d/'nbs'
    shutil.copytree(ROOT/'nbs', nbs, ignore=shutil.ignore_patterns('.ipynb_checkpoints', '__pycache__'))
    if not _has_image(nbs/f'{FIG_NB}.ipynb'):
        before = [c['source'] for c in json.loads((nbs/f'{FIG_NB}.ipynb').read_text())['cells']]
        subprocess.run([sys.executable, str(ROOT/'tools'/'run_notebooks.py'), '--nbs', str(nbs), FIG_NB], check=True, cwd=ROOT)
        nb = json.loads((nbs/f'{FIG_NB}.ipynb').read_text())
        assert [c['source'] for c in nb['cells']] == before, 'run_notebooks changed the sources'
        assert all(c.get('execution_count') is None for c in nb['cells'] if c['cell_type'] == 'code'), 'not cleaned by nbdev_clean'
        assert _has_image(nbs/f'{FIG_NB}.ipynb'), f'{FIG_NB} drew no figure'
    return build_docs.build(nbs, d/'_site')      # sphinx-build -W: raises CalledProcessError on any warning

def test_build_is_complete_and_offline(site):
    import build_docs
    for _, nums in build_docs.SECTIONS:
        for n in nums:
            nb = next((ROOT/'nbs').glob(f'{n:02d}_*.ipynb'), None)
            if nb: assert (site/'nbs'/f'{nb.stem}.html').exists(), f'no page for {nb.name}'
    index = (site/'index.html').read_text()
    for cap, nums in build_docs.SECTIONS + [('API reference', [0])]:
        if any(next((ROOT/'nbs').glob(f'{n:02d}_*.ipynb'), None) for n in nums): assert cap in index, f'section {cap!r} missing from the home page'
    assert (site/'search.html').exists() and (site/'searchindex.js').exists(), 'no search'
    assert 'merge_state_dicts' in (site/'searchindex.js').read_text(), 'API names are not in the search index'
    maps = [site/m for m in re.findall(r'<img[^>]+src="(_images/[^"]+\.svg)"', index)]
    assert any('registry' in m.read_text() and 'analyze' in m.read_text() for m in maps), 'the module map is not drawn on the home page'
    assert '```mermaid' not in index and 'flowchart BT' not in index, 'the Mermaid source shows as text'
    assert (site/'_static'/'mathjax'/'tex-chtml.js').exists(), 'MathJax is not served by the site'
    for page in site.rglob('*.html'):
        html = page.read_text()
        remote = re.findall(r'<script[^>]+src="(https?:[^"]+)"|<link[^>]+href="(https?:[^"]+\.css[^"]*)"', html)
        assert not remote, f'{page.relative_to(site)} loads {remote[0]} from the network'

def test_api_reference_has_every_export(site):
    import resm_nb
    from resm_nb.registry import REGISTRY
    for m in pkgutil.iter_modules(resm_nb.__path__):
        if m.name.startswith('_'): continue
        mod = importlib.import_module(f'resm_nb.{m.name}')
        html = (site/'api'/f'{m.name}.html').read_text()
        missing = [k for k in mod.__all__ if f'id="resm_nb.{m.name}.{k}"' not in html]
        assert not missing, f'api/{m.name}.html does not document {missing}'
    html = (site/'api'/'merge_methods.html').read_text()
    import html as h
    text = h.unescape(re.sub(r'<[^>]+>', '', html))
    for name, meth in REGISTRY.items():
        assert name in text and meth.formula.split(',')[0] in text and meth.paper.split(',')[0] in text, f'merge method {name} without formula or paper'

def test_figure_page_has_the_notebook_figure(site):
    html = (site/'nbs'/f'{FIG_NB}.html').read_text()
    imgs = re.findall(r'<div class="cell_output[^"]*">.*?<img[^>]+src="([^"]+\.png)"', html, re.S)
    assert imgs, f'no figure in the page of {FIG_NB}'
    from PIL import Image
    im = Image.open((site/'nbs'/imgs[0]).resolve())
    assert min(im.size) > 100

# --- rendered in headless Chromium -----------------------------------------------------------------

@pytest.fixture(scope='module')
def server(site):
    "The site served on 127.0.0.1 (a free port) for the module's tests."
    handler = functools.partial(type('Quiet', (http.server.SimpleHTTPRequestHandler,), {'log_message': lambda *a: None}),
                                directory=str(site))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f'http://127.0.0.1:{srv.server_address[1]}'
    srv.shutdown(); srv.server_close()

def _chromium(*args, timeout=120) -> str:
    with tempfile.TemporaryDirectory(prefix='chromium-') as profile:     # a profile of its own: runs may be parallel
        r = subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--mute-audio',
                            f'--user-data-dir={profile}', '--virtual-time-budget=15000', *args],
                           capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout

def _screenshot(url:str, path:Path, height:int) -> np.ndarray:
    from PIL import Image
    _chromium(f'--screenshot={path}', f'--window-size=1280,{height}', url)
    px = np.asarray(Image.open(path).convert('RGB'))
    packed = (px[..., 0].astype(np.int32) << 16) | (px[..., 1].astype(np.int32) << 8) | px[..., 2]
    assert len(np.unique(packed)) > 50, f'blank screenshot of {url}'
    return px

@needs_chromium
def test_chromium_shows_a_notebook_figure(site, server, tmp_path):
    from PIL import Image
    page = f'{server}/nbs/{FIG_NB}.html'
    dom = _chromium('--dump-dom', page)
    src = re.search(r'<div class="cell_output[^"]*">.*?<img[^>]+src="([^"]+\.png)"', dom, re.S)
    assert src, 'no figure image in the rendered DOM'
    fig = np.asarray(Image.open((site/'nbs'/src.group(1)).resolve()).convert('RGB')).reshape(-1, 3)
    # The figure's most frequent saturated colour must be on screen (tall window: the figure is far down the page).
    sat = fig[(fig.max(1).astype(int) - fig.min(1)) > 60]
    cols, counts = np.unique(sat, axis=0, return_counts=True)
    colour = cols[counts.argmax()]
    shot = _screenshot(page, tmp_path/'figure.png', 14000)
    assert (shot == colour).all(-1).sum() > 200, f'the figure ({src.group(1)}) does not show in the screenshot'

@needs_chromium
def test_chromium_typesets_formulas(site, server, tmp_path):
    page = f'{server}/{MATH_PAGE}'
    dom = _chromium('--dump-dom', page)
    assert dom.count('<mjx-container') >= 5, 'MathJax typeset no formula'
    assert '\\tau_i' not in dom and '\\operatorname' not in dom, 'TeX source left untypeset'
    shot = _screenshot(page, tmp_path/'math.png', 1200)
    assert (shot < 100).all(-1).mean() > 0.005, 'no text in the screenshot'

@needs_chromium
def test_chromium_search_works_offline(site, server):
    dom = _chromium('--dump-dom', f'{server}/search.html?q=polar')
    assert 'href="api/tsvm.html#resm_nb.tsvm.polar"' in dom, 'the search page does not find resm_nb.tsvm.polar'
    assert 'href="nbs/05_tsvm.html"' in dom, 'the search page does not find the TSV-M notebook'
