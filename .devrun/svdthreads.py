import time, torch, sys
from concurrent.futures import ThreadPoolExecutor
torch.manual_seed(0)
def best(f, r=2):
    ts=[]
    for _ in range(r):
        t=time.perf_counter(); f(); ts.append(time.perf_counter()-t)
    return min(ts)
for shape in [(1024,1024),(2816,1024),(1024,2816)]:
    xs=[torch.randn(*shape) for _ in range(4)]
    torch.set_num_threads(1); t1=best(lambda: [torch.linalg.svd(x, full_matrices=False) for x in xs])
    torch.set_num_threads(2); t2=best(lambda: [torch.linalg.svd(x, full_matrices=False) for x in xs])
    torch.set_num_threads(1)
    with ThreadPoolExecutor(2) as ex: tp=best(lambda: list(ex.map(lambda x: torch.linalg.svd(x, full_matrices=False), xs)))
    torch.set_num_threads(2)
    with ThreadPoolExecutor(2) as ex: tp2=best(lambda: list(ex.map(lambda x: torch.linalg.svd(x, full_matrices=False), xs)))
    print(shape, f"4 svds: 1 thread {t1:.2f}s, 2 threads {t2:.2f}s ({t1/t2:.2f}x), 2 workers x 1 thread {tp:.2f}s ({t1/tp:.2f}x), 2 workers x2 {tp2:.2f}", flush=True)
