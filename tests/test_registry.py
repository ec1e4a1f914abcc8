"""The registry is complete however the package is imported."""
import subprocess, sys

def test_importing_methods_alone_finds_every_method():
    code = ("from resm_nb.methods import get_method, registered; get_method('resm'); "
            "print(' '.join(sorted(registered())))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()
    assert out == sorted(['breadcrumbs', 'breadcrumbs_ties', 'dare_linear', 'dare_ties', 'linear', 'resm',
                          'task_arithmetic', 'ties', 'tsvm'])

def test_a_second_method_of_the_same_name_is_refused():
    import pytest
    from resm_nb.methods import register_method
    with pytest.raises(ValueError, match="merge method 'ties' is already registered"):
        register_method('ties', [], 'x', 'y')(lambda *a: None)
