import time, numpy as np, scipy.linalg as sl, torch
torch.set_num_threads(1)
rng=np.random.default_rng(0)
def best(f,r=2):
    ts=[]
    for _ in range(r): t=time.perf_counter(); f(); ts.append(time.perf_counter()-t)
    return min(ts)
for shape in [(1024,1024),(2816,1024),(2048,2048),(5504,2048)]:
    X=rng.standard_normal(shape).astype(np.float32); T=torch.from_numpy(X)
    print(shape, 'torch svd %.2f' % best(lambda: torch.linalg.svd(T, full_matrices=False)),
      'scipy gesdd %.2f' % best(lambda: sl.svd(X, full_matrices=False, lapack_driver='gesdd', check_finite=False)),
      'scipy gesvd %.2f' % best(lambda: sl.svd(X, full_matrices=False, lapack_driver='gesvd', check_finite=False)),
      'torch eigh64 %.2f' % best(lambda: torch.linalg.eigh(T.double().T@T.double())),
      'scipy eigh64 %.2f' % best(lambda: sl.eigh(X.T.astype(np.float64)@X.astype(np.float64), check_finite=False)), flush=True)
