"""Entry-by-entry merges on the CPU, whole tensors against tiles of rows (the driver's `CPU_TILE`).

Task arithmetic (or `--method`) of one bf16 tensor of `--shape` and three experts through `merge_one`, whole and in
tiles of several sizes, one thread (`--threads`), freed memory kept in the heap as `resm-merge` keeps it; prints the
fastest of `--repeat` runs of each and checks that every tiling gives the same bits. Never a pass/fail test.

    python benchmarks/bench_tiles.py
    python benchmarks/bench_tiles.py --shape 14336 4096 --threads 2
"""
import argparse, time
import torch
import resm_nb.driver as drv
from resm_nb.io import keep_freed_memory
from resm_nb.registry import get_method

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--shape', type=int, nargs=2, default=[5504, 2048])
    ap.add_argument('--method', default='task_arithmetic')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--repeat', type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(a.threads); keep_freed_memory()
    m = get_method(a.method); p = m.resolve(3, {'lambda': 0.5} if a.method == 'task_arithmetic' else {})
    g = torch.Generator().manual_seed(0)
    b = (torch.randn(*a.shape, generator=g) * 0.02).bfloat16()
    es = [(b.float() + 0.002 * torch.randn(*a.shape, generator=g)).bfloat16() for _ in range(3)]
    default, ref = drv.CPU_TILE, None
    print(f"{a.method}, {tuple(a.shape)} bf16, 3 experts, {a.threads} thread(s); fastest of {a.repeat}\n")
    print('| tile (entries per input) | fp32 MB per input | ms |\n|---|---|---|')
    for tile in [b.numel()] + [2**k for k in range(15, 23)]:
        drv.CPU_TILE = tile
        ts = []
        for _ in range(a.repeat):
            t = time.perf_counter(); out = drv.merge_one(m, b, es, p).tensor; ts.append(time.perf_counter() - t)
        if ref is None: ref = out
        assert torch.equal(out, ref), f'tile {tile}: other bits than the whole tensor'
        name = 'whole tensor' if tile == b.numel() else f'2^{tile.bit_length() - 1}' + (' (CPU_TILE)' if tile == default else '')
        print(f'| {name} | {4 * min(tile, b.numel()) / 2**20:.2f} | {1000 * min(ts):.0f} |')

if __name__ == '__main__': main()
