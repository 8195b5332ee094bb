#!/usr/bin/env python3
"""Trains the reference's 20-layer WN-MLP on Fashion-MNIST the way its train.py does, to time an
epoch and record its test accuracy next to //weightnorm_init:train on the same machine.

Written from the behaviour described in shared/specs/weightnorm_init.md (not copied): MLP
784 -> 128 x 20 -> 10 with torch.nn.utils.weight_norm on every hidden layer, the orthogonal
direction + proposed gain g = sqrt(2 fan_in / fan_out) (or PyTorch's default g = ||v|| with
--init=orthogonal), zero biases, plain nn.Linear classifier; inputs x/255 - 0.5; a 54000/6000
random split; SGD lr 0.01, batch 128, cross-entropy; test accuracy of the best-validation model.

  OPENBLAS_CORETYPE=SkylakeX python3 benchmarks/peers/weightnorm_init_reference.py --threads=1
"""
import argparse
import gzip
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(name):
    for path in (f"{DATA}/{name}", f"{DATA}/{name}.gz"):
        try:
            raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
        except FileNotFoundError:
            continue
        ndim = raw[3]
        dims = np.frombuffer(raw[4:4 + 4 * ndim], dtype=">u4")
        return np.frombuffer(raw[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)
    raise FileNotFoundError(name)


def model(layers, init):
    mods, fan_in = [], 784
    for _ in range(layers):
        lin = nn.Linear(fan_in, 128)
        nn.init.orthogonal_(lin.weight)
        nn.init.zeros_(lin.bias)
        lin = nn.utils.weight_norm(lin)
        if init == "orthogonal_proposed":
            lin.weight_g.data.fill_((2.0 * fan_in / 128) ** 0.5)
        mods += [lin, nn.ReLU()]
        fan_in = 128
    return nn.Sequential(nn.Flatten(), *mods, nn.Linear(128, 10))


def accuracy(net, x, y):
    with torch.no_grad():
        return sum((net(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
                   for i in range(0, len(x), 1000)) / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--layers", type=int, default=20)
    ap.add_argument("--init", default="orthogonal_proposed")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.from_numpy(read_idx("train-images-idx3-ubyte").astype(np.float32) / 255 - 0.5)
    y = torch.from_numpy(read_idx("train-labels-idx1-ubyte").astype(np.int64))
    xt = torch.from_numpy(read_idx("t10k-images-idx3-ubyte").astype(np.float32) / 255 - 0.5)
    yt = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte").astype(np.int64))
    for seed in args.seeds:
        torch.manual_seed(seed)
        perm = torch.randperm(len(x))
        tr, va = perm[:54000], perm[54000:]
        net = model(args.layers, args.init)
        opt = torch.optim.SGD(net.parameters(), lr=0.01)
        order = tr[torch.randperm(len(tr))]
        start = time.perf_counter()
        for i in range(0, len(order), 128):
            idx = order[i:i + 128]
            loss = F.cross_entropy(net(x[idx]), y[idx])
            assert not torch.isnan(loss)
            opt.zero_grad()
            loss.backward()
            opt.step()
        epoch_s = time.perf_counter() - start
        print(f"seed {seed}: epoch {epoch_s:.2f} s ({args.threads} threads), "
              f"val acc {accuracy(net, x[va], y[va]):.4f}, test acc {accuracy(net, xt, yt):.4f}")


if __name__ == "__main__":
    main()
