"""Native anchor for `npm run bench`: the reference probe trained by PyTorch.

MLP 784-256-128-10, ReLU, batch 64, CrossEntropyLoss, plain SGD (lr 0.01),
on ONE CPU thread, random data. Warm up, then run steps until >= MIN_SECONDS
have elapsed (and at least MIN_STEPS). `loss.item()` every step, as the
TF.js loop reads its loss every step. Prints one JSON object on stdout.

Usage: python3 torch_ref.py [min_seconds]
"""
import json
import os
import platform
import re
import sys
import time

import torch

BATCH = 64
WIDTHS = [784, 256, 128, 10]
WARMUP = 5
MIN_STEPS = 20
MIN_SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
N_BATCHES = 8


def blas_info() -> dict:
    """Which BLAS this torch multiplies with. Debian's python3-torch is built
    with BLAS_INFO=generic and links libblas.so.3, which is the slow netlib
    reference BLAS unless an optimised provider (OpenBLAS, BLIS) is installed
    as the libblas.so.3 alternative."""
    config = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", config)
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                name = os.path.basename(p).lower()
                if p.startswith("/") and re.search(r"blas|mkl|blis|lapack", name):
                    libs.add(p)
    except OSError:
        pass
    blas_libs = sorted(l for l in libs if "lapack" not in os.path.basename(l).lower())
    reference = bool(blas_libs) and all(
        re.search(r"/blas/libblas\.so", l) and not re.search(r"openblas|blis|mkl|atlas", l) for l in blas_libs
    )
    return {
        "blas_info": m.group(1) if m else None,
        "mkl": torch.backends.mkl.is_available(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "blas_libs": blas_libs,
        "reference_blas": reference,
    }


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    layers = []
    for i in range(1, len(WIDTHS)):
        layers.append(torch.nn.Linear(WIDTHS[i - 1], WIDTHS[i]))
        if i < len(WIDTHS) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    xs = [torch.randn(BATCH, WIDTHS[0]) for _ in range(N_BATCHES)]
    ys = [torch.randint(0, WIDTHS[-1], (BATCH,)) for _ in range(N_BATCHES)]

    def step(i: int) -> float:
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xs[i % N_BATCHES]), ys[i % N_BATCHES])
        loss.backward()
        opt.step()
        return loss.item()

    for i in range(WARMUP):
        step(i)
    steps = 0
    last = float("nan")
    t0 = time.perf_counter()
    while True:
        last = step(steps)
        steps += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= MIN_SECONDS and steps >= MIN_STEPS:
            break
    flops = 6 * params * BATCH
    blas = blas_info()
    print(
        json.dumps(
            {
                "variant": "pytorch",
                "backend": "torch-cpu-1thread",
                "torch": torch.__version__,
                "python": platform.python_version(),
                "threads": torch.get_num_threads(),
                "parameters": params,
                "batch": BATCH,
                "steps": steps,
                "seconds": elapsed,
                "steps_per_s": steps / elapsed,
                "gflops": steps * flops / elapsed / 1e9,
                "last_loss": last,
                **blas,
            }
        )
    )


if __name__ == "__main__":
    main()
