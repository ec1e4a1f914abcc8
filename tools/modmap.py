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
         'commands': ['cli']}

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
