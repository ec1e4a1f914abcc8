import sys, time, torch
torch.set_num_threads(1)
import resm_nb, resm_nb.tsvm as T
from resm_nb.io import Checkpoint
d = '/tmp/bench2/200M'
cks = [Checkpoint(f'{d}/{n}') for n in ('base', 'e0', 'e1', 'e2')]
names = [k for k in cks[0] if 'layers.0.' in k and k.endswith('proj.weight')] + ['model.embed_tokens.weight', 'lm_head.weight']
tot = {}
for k in names:
    b, *es = [c[k].float() for c in cks]
    t = time.process_time(); T.tsvm(b, es, {'alpha': 1.0, 'exclude_keys': (), 'svd': 'exact'}, key=k); tot[k] = time.process_time() - t
layer = sum(v for k, v in tot.items() if 'layers.0.' in k)
print(resm_nb.__file__, {k.split('.')[-2]: round(v, 2) for k, v in tot.items()}, 'layer', round(layer, 2), 'model est', round(12 * layer + tot['model.embed_tokens.weight'] + tot['lm_head.weight'], 1), flush=True)
