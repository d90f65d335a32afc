#!/usr/bin/python3
"""Export scikit-learn's bundled datasets to CSV for the bench's "LR suggestions on real data".

Only the datasets that ship inside scikit-learn (sklearn/datasets/data, .../images,
.../descr) are used: nothing is downloaded. Run with Debian's Python, which has
python3-sklearn (apt-get install -y --no-install-recommends python3-sklearn):

    /usr/bin/python3 bench/data/export.py

Each CSV has a header row; the features keep sklearn's feature names (made
CSV-safe) and the label or regression target is the last column, `target`.
Values are written with repr-exact precision (integers without a decimal point),
so re-running the script reproduces the committed files byte for byte.
"""
import csv
import os
import re
import sys

import sklearn
from sklearn import datasets

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (loader, task)
SETS = {
    "iris": (datasets.load_iris, "classification"),
    "wine": (datasets.load_wine, "classification"),
    "breast_cancer": (datasets.load_breast_cancer, "classification"),
    "digits": (datasets.load_digits, "classification"),
    "diabetes": (lambda: datasets.load_diabetes(scaled=False), "regression"),  # raw units; the server standardises
    # Linnerud has three targets (Weight, Waist, Pulse); `target` is Weight, the
    # other two are left out so they cannot leak into the features.
    "linnerud": (datasets.load_linnerud, "regression"),
}


def cell(v):
    f = float(v)
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return repr(f)


def safe(name):
    s = re.sub(r"[^A-Za-z0-9_]+", "_", str(name).strip()).strip("_")
    return s or "x"


def export(name, loader, task):
    b = loader()
    x, y = b.data, b.target
    feats = [safe(f) for f in b.feature_names] if getattr(b, "feature_names", None) is not None else [f"x{j}" for j in range(x.shape[1])]
    if name == "digits":
        feats = [f"px{j}" for j in range(x.shape[1])]  # pixel_0_0 ... -> shorter px0..px63
    if y.ndim == 2:  # linnerud
        y = y[:, list(b.target_names).index("Weight")]
    assert len(set(feats)) == len(feats) and "target" not in feats
    path = os.path.join(HERE, f"{name}.csv")
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(feats + ["target"])
        for row, t in zip(x, y):
            w.writerow([cell(v) for v in row] + [cell(t)])
    kinds = f"{len(set(y.tolist()))} classes" if task == "classification" else "continuous target"
    print(f"{name}: {x.shape[0]} rows x {x.shape[1]} features, {kinds} -> {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


def main():
    print(f"scikit-learn {sklearn.__version__} (Python {sys.version.split()[0]})")
    for name, (loader, task) in SETS.items():
        export(name, loader, task)


if __name__ == "__main__":
    main()
