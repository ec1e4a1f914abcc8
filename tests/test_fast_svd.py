"""`svd: fast` against the exact path on real (tiny) experts: the testbed's quick experts merged with TSV-M and RESM
both ways give the same greedy generations on every test and dev prompt, and merged weights within the error
bound (relative Frobenius error of each merged task vector ≤ 1e-3). The bound on random matrices is tested in
nbs/05_tsvm.ipynb."""
import torch
from resm_nb.testbed import Testbed, TestbedConfig, merge_experts, load_weights
from resm_nb.evaluate import evaluate
from resm_nb.testing import shared_cache

def test_fast_svd_same_generations_as_exact(quick_testbed):
    torch.manual_seed(0)
    tb = Testbed(TestbedConfig.quick(), 0, 0.0, shared_cache(), progress=False)
    base = tb.state_dict('base')
    for method in ('tsvm', 'resm'):
        exact, fast = (merge_experts(tb, method, weights=(1.0, 1.0, 1.0), svd=how).tensor for how in ('exact', 'fast'))
        for k, b in base.items():
            d = exact[k] - b
            if d.ndim == 2 and d.norm() > 0:
                err = float((fast[k] - exact[k]).norm() / d.norm())
                assert err <= 1e-3, f'{method} {k}: relative error {err:.2e} of the merged task vector'
        for split in ('dev', 'test'):
            re_, rf = (evaluate(load_weights(tb, sd), tb.tok, tb.world, split, responses=True) for sd in (exact, fast))
            assert re_['responses'] == rf['responses'], f'{method}: greedy generations differ on {split}'
