"""The registry is complete however the package is imported, and imports run one way (methods never import the registry)."""
import subprocess, sys
import pytest

ALL = sorted(['breadcrumbs', 'breadcrumbs_ties', 'dare_linear', 'dare_ties', 'linear', 'resm', 'task_arithmetic', 'ties', 'tsvm'])

def _run(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()

def test_importing_the_registry_alone_finds_every_method():
    assert _run("from resm_nb.registry import get_method, registered; get_method('resm'); print(' '.join(sorted(registered())))") == ALL

def test_method_modules_do_not_import_the_registry_or_the_driver():
    out = _run("import sys, resm_nb.methods, resm_nb.tsvm; print(sorted(m for m in sys.modules if m.startswith('resm_nb.')))")
    assert "'resm_nb.registry'," not in ' '.join(out) and "'resm_nb.driver'," not in ' '.join(out), out

def test_a_second_method_of_the_same_name_is_refused():
    from resm_nb.registry import register
    from resm_nb.methods import MergeMethod
    with pytest.raises(ValueError, match="merge method 'ties' is already registered"):
        register(MergeMethod('ties', lambda *a, **k: None, (), 'x', 'y'))
