import time, torch
torch.set_num_threads(1); torch.manual_seed(0)
from resm_nb.tsvm import tsv_combine
def svd_t(x):
    if x.shape[0] < x.shape[1]:
        U, s, Vh = torch.linalg.svd(x.T, full_matrices=False); return Vh.T, s, U.T
    return torch.linalg.svd(x, full_matrices=False)
def polar_t(x):
    P, _, Qh = svd_t(x); return P @ Qh
def core(taus, k, S, pol):
    svds=[S(t) for t in taus]
    U = torch.cat([u[:, :k] for (u, _, _) in svds], 1); s = torch.cat([sv[:k] for (_, sv, _) in svds]); Vh = torch.cat([vh[:k] for (_, _, vh) in svds], 0)
    return (pol(U) * s) @ pol(Vh)
ref = lambda taus,k: core(taus,k,lambda x: torch.linalg.svd(x, full_matrices=False), lambda x: (lambda P,_,Q: P@Q)(*torch.linalg.svd(x, full_matrices=False)))
for shape in [(1024,1024),(2816,1024),(1024,2816),(256,1024)]:
    taus=[0.002*torch.randn(*shape) for _ in range(3)]; k=min(shape)//3
    t=time.perf_counter(); A=ref(taus,k); ta=time.perf_counter()-t
    t=time.perf_counter(); B=core(taus,k,svd_t,polar_t); tb=time.perf_counter()-t
    print(shape, f"as written {ta:.2f}s, tall orientation {tb:.2f}s ({tb/ta:.2f}), rel diff {float((A-B).norm()/A.norm()):.1e}", flush=True)
