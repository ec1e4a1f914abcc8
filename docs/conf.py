"""Sphinx configuration of the docs site. `python tools/build_docs.py` copies this file into a staging
folder next to the processed notebooks and the generated API pages, then runs sphinx-build with -W."""
import re, unicodedata

project = 'resm_nb'
author = 'resm_nb developers'
copyright = '2026 onwards, resm_nb developers'

extensions = ['myst_nb', 'sphinx.ext.autodoc', 'sphinx.ext.mathjax', 'sphinx.ext.viewcode']
# MathJax 3 served from the build itself (no CDN): the static files of the PyPI package sphinx-mathjax-offline
# are copied into _static/mathjax by tools/build_docs.py.
mathjax_path = 'mathjax/tex-chtml.js'
html_static_path = ['_static']
html_css_files = ['custom.css']

# The notebooks are rendered with the outputs they store; nothing is executed at build time.
nb_execution_mode = 'off'
nb_merge_streams = True
nb_render_markdown_format = 'myst'     # Markdown outputs (tables) as the pages' own Markdown
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_heading_anchors = 3
suppress_warnings = ['mystnb.unknown_mime_type']   # e.g. widget state that a static page cannot show

html_theme = 'furo'
html_title = 'resm_nb'
html_theme_options = {'navigation_with_keys': True}
html_show_sourcelink = False
exclude_patterns = ['_build', '**.ipynb_checkpoints']

autodoc_member_order = 'bysource'
autodoc_typehints = 'signature'
autodoc_preserve_defaults = True

# Docstrings in this package are one-line Markdown (fastcore style): `code` spans and plain text. Turn them
# into reStructuredText for autodoc: code spans become literals, characters that mean markup in RST are escaped.
_code = re.compile(r'(`+)(.+?)\1')
_special = re.compile(r'([\\*|_`<>\[\]])')

def _ok(ch:str, after:bool) -> bool:
    "Whether inline markup may start after `ch` (or end before it, with `after`) without an escaped space."
    return not ch or ch.isspace() or unicodedata.category(ch) in (('Pe', 'Pi', 'Pf', 'Pd', 'Po') if after else ('Ps', 'Pi', 'Pf', 'Pd', 'Po'))

def md_to_rst(text:str) -> str:
    "One line of Markdown as reStructuredText."
    out, pos = [], 0
    for m in _code.finditer(text):
        out.append(_special.sub(r'\\\1', text[pos:m.start()]))
        before, after = text[m.start()-1:m.start()], text[m.end():m.end()+1]
        code = m.group(2).strip().replace('`', "'")
        out.append(('' if _ok(before, False) else '\\ ') + f'``{code}``' + ('' if _ok(after, True) else '\\ '))
        pos = m.end()
    out.append(_special.sub(r'\\\1', text[pos:]))
    return ''.join(out)

def _docstring(app, what, name, obj, options, lines):
    if not name.startswith('resm_nb'): return
    lines[:] = [md_to_rst(l) for l in lines]

def setup(app):
    app.connect('autodoc-process-docstring', _docstring)
