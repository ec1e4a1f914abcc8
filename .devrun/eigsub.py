import time, numpy as np, scipy.linalg as sl, torch
torch.set_num_threads(1)
import contextlib
rng=np.random.default_rng(0)
def best(f,r=3):
    ts=[]
    for _ in range(r): t=time.perf_counter(); f(); ts.append(time.perf_counter()-t)
    return min(ts)
with contextlib.nullcontext():
  for n in [1024, 2048]:
    X=rng.standard_normal((3*n, n)); G=X.T@X; k=n//3
    print(n, 'torch eigh', best(lambda: torch.linalg.eigh(torch.from_numpy(G))),
      'scipy evd', best(lambda: sl.eigh(G, driver='evd')),
      'scipy evr all', best(lambda: sl.eigh(G, driver='evr')),
      'evr top k', best(lambda: sl.eigh(G, driver='evr', subset_by_index=[n-k, n-1])),
      'evx top k', best(lambda: sl.eigh(G, driver='evx', subset_by_index=[n-k, n-1])),
      'eigvalsh', best(lambda: sl.eigh(G, eigvals_only=True, driver='evd')),
      'torch svd fp32', best(lambda: torch.linalg.svd(torch.from_numpy(X[:n]).float(), full_matrices=False)), flush=True)
