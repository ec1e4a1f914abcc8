import sys, pandas as pd, numpy as np
new = pd.read_csv(sys.argv[1]); old = pd.read_csv('figures/noise_robustness.csv')
old = old[(old.seed == 0) & (old.noise == 0)]
key = ['model', 'kind', 'method']
new = new.set_index(key).sort_index(); old = old.set_index(key).sort_index()
cols = [c for c in new.columns if c in old.columns]
print('rows', len(new), len(old), 'cols', len(cols))
diff = 0
for c in cols:
    a, b = new[c], old.loc[new.index, c]
    if a.dtype.kind in 'fi':
        d = ~np.isclose(a.astype(float), b.astype(float), rtol=0, atol=5e-5, equal_nan=True)
    else:
        d = a.fillna('').astype(str) != b.fillna('').astype(str)
    if d.any(): print(c, int(d.sum()), list(a.index[d])[:5]); diff += int(d.sum())
print('cells differing:', diff)
