import sys, os, time, torch
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from resm_nb.io import Checkpoint, keep_freed_memory, read_at
keep_freed_memory()
how, nthreads, *dirs = sys.argv[1:]; torch.set_num_threads(int(nthreads))
pool = ThreadPoolExecutor(2)
def par_read(fd, buf, off):
    mv = memoryview(buf).cast('B'); n = len(mv)
    if n < 2**24: return read_at(fd, mv, off)
    h = (n // 2) // 4096 * 4096
    a = pool.submit(read_at, fd, mv[:h], off); b = read_at(fd, mv[h:], off + h)
    return a.result() + b
t, nb = time.perf_counter(), 0
if how == 'safetensors':
    from safetensors import safe_open
    for d in dirs:
        for f in sorted(Path(d).glob('*.safetensors')):
            with safe_open(f, 'pt') as s:
                for k in s.keys(): x = s.get_tensor(k).clone(); nb += x.numel() * x.element_size()
else:
    import resm_nb.io as io
    if how == 'par': io.read_at_orig = io.read_at; io.read_at = par_read
    cks = [Checkpoint(d) for d in dirs]
    for c in cks:
        for k in c: x = c[k]; nb += x.numel() * x.element_size()
print(how, nthreads, round(nb / (time.perf_counter() - t) / 1e9, 2))
