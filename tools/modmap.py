"""The package's module map, read from its actual imports: which module imports which, and the rooms
(layers) they belong to. nbs/index.ipynb draws it; tests/test_architecture.py checks that every import
points down or sideways, never up, and that there are no cycles."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / 'resm_nb'
# rooms from the bottom up: a module may import from its own room and the rooms below it
ROOMS = {'merge library': ['naming', 'testing', 'io', 'taskvec', 'methods', 'tsvm', 'registry', 'driver', 'engine'],
         '3H testbed': ['world', 'train', 'evaluate', 'testbed', 'data'],
         'analyses': ['analyze', 'figures'],
         'commands': ['cli', 'launch']}

def modules() -> list:
    "The package's modules (private ones such as _modidx left out)."
    return sorted(p.stem for p in PKG.glob('*.py') if not p.stem.startswith('_'))

def imports_of(mod:str) -> list:
    "Modules of the package that `mod` imports (relative imports, as nbdev writes them)."
    out = set()
    for n in ast.walk(ast.parse((PKG / f'{mod}.py').read_text())):
        if isinstance(n, ast.ImportFrom) and n.level == 1:
            out |= {n.module.split('.')[0]} if n.module else {a.name for a in n.names}
    return sorted(out)

def mermaid() -> str:
    "The module map as a Mermaid flowchart: rooms as subgraphs, an arrow from each module to each it imports."
    lines = ['```mermaid', 'flowchart BT']
    for i, (room, mods) in enumerate(ROOMS.items()):
        lines += [f'  subgraph room{i}["{room}"]'] + [f'    {m}' for m in mods] + ['  end']
    lines += [f'  {m} --> {d}' for mods in ROOMS.values() for m in mods for d in imports_of(m)]
    return '\n'.join(lines + ['```'])

def levels() -> dict:
    "Each module's height in the import graph: 0 for a module that imports nothing of the package, else 1 + the highest it imports."
    memo = {}
    def h(m):
        if m not in memo: memo[m] = 1 + max((h(d) for d in imports_of(m)), default=-1)
        return memo[m]
    return {m: h(m) for mods in ROOMS.values() for m in mods}

def reduced_imports(mod:str) -> list:
    "The imports of `mod` that no other import of it leads to (the transitive reduction): what the picture draws."
    def below(m, seen):
        for d in imports_of(m):
            if d not in seen: seen.add(d); below(d, seen)
        return seen
    direct = imports_of(mod)
    implied = set().union(*(below(d, set()) for d in direct)) if direct else set()
    return [d for d in direct if d not in implied]

def svg() -> str:
    """The module map as an SVG picture, drawn with matplotlib: a row per height in the import graph (`levels`), one
    colour per room, an arrow from each module to each module it imports unless another of its imports already
    leads there (`reduced_imports`). The docs site shows it instead of the
    Mermaid chart, which needs a script from a CDN (the site is offline)."""
    import io, matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, Patch
    lv = levels()
    room = {m: r for r, mods in ROOMS.items() for m in mods}
    colours = dict(zip(ROOMS, ['#cfe2f3', '#d9ead3', '#fce5cd', '#ead1dc']))
    rows = {}
    for m in sorted(lv, key=lambda m: (list(ROOMS).index(room[m]), m)): rows.setdefault(lv[m], []).append(m)
    width = max(len(r) for r in rows.values())
    pos = {m: ((i + 0.5) * width / len(r), y) for y, r in rows.items() for i, m in enumerate(r)}
    fig, ax = plt.subplots(figsize=(1.25 * width + 0.5, 0.8 * len(rows) + 0.9))
    for m, (x, y) in pos.items():
        for d in reduced_imports(m):
            ax.add_patch(FancyArrowPatch((x, y - 0.17), (pos[d][0], pos[d][1] + 0.17), arrowstyle='-|>', mutation_scale=7,
                                         color='#777777', lw=0.6, connectionstyle='arc3,rad=0.06', zorder=1))
        ax.text(x, y, m, ha='center', va='center', fontsize=9, family='monospace', zorder=2,
                bbox=dict(boxstyle='round,pad=0.3', fc=colours[room[m]], ec='#555555', lw=0.6))
    ax.set_xlim(-0.1, width + 0.1); ax.set_ylim(-0.5, len(rows) - 0.5); ax.axis('off')
    ax.legend(handles=[Patch(fc=c, ec='#555555', lw=0.6, label=r) for r, c in colours.items()], loc='upper center',
              bbox_to_anchor=(0.5, 1.02), ncol=len(ROOMS), frameon=False, fontsize=9)
    plt.rcParams['svg.hashsalt'] = 'resm_nb'                       # the same file from the same graph
    buf = io.StringIO()
    fig.savefig(buf, format='svg', bbox_inches='tight', metadata={'Date': None})
    plt.close(fig)
    return buf.getvalue()
