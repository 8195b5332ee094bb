#!/usr/bin/env python3
"""Times one train-bnn step of the reference's fconv BNN (32, 128) with the DWP prior on both conv
layers (batch 50, S = 1), its KL estimate alone, and a 5x5 VAE step at batch 128, in eager PyTorch,
to compare with benchmarks/dwp_bench on the same machine.

Written from the behaviour described in shared/specs/deep_weight_prior.md (not copied): BayesConv2d
with log sigma^2 and local reparameterisation, LeakyReLU(0.01) + max-pool fconv, the 7x7 (z 2,
hidden 32) and 5x5 (z 4, hidden 64) kernel VAEs with ELU and softplus variances, kl_dwp = -H[q] +
summed VAE loss of one weight sample with one z per kernel through the frozen VAE, separate
backward calls as the reference, Adam.

  OPENBLAS_CORETYPE=SkylakeX python3 benchmarks/peers/deep_weight_prior_reference.py --threads=1
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def vae(k, z, h):
    if k == 7:
        enc = nn.Sequential(nn.Conv2d(1, h, 3), nn.ELU(), nn.Conv2d(h, 2 * h, 3), nn.ELU(),
                            nn.Conv2d(2 * h, 2 * h, 3), nn.ELU())
        dec = nn.Sequential(nn.ConvTranspose2d(z, 2 * h, 3), nn.ELU(), nn.ConvTranspose2d(2 * h, 2 * h, 3),
                            nn.ELU(), nn.ConvTranspose2d(2 * h, h, 3), nn.ELU())
        dh = h
    else:
        enc = nn.Sequential(nn.Conv2d(1, h, 3, padding=1), nn.ELU(), nn.Conv2d(h, h, 3, padding=1), nn.ELU(),
                            nn.Conv2d(h, 2 * h, 3), nn.ELU(), nn.Conv2d(2 * h, 2 * h, 3), nn.ELU())
        dec = nn.Sequential(nn.Conv2d(z, 2 * h, 1), nn.ELU(), nn.ConvTranspose2d(2 * h, 2 * h, 3), nn.ELU(),
                            nn.ConvTranspose2d(2 * h, 2 * h, 3), nn.ELU(), nn.Conv2d(2 * h, h, 1), nn.ELU())
        dh = h
    m = nn.ModuleDict(dict(enc=enc, emu=nn.Conv2d(2 * h, z, 1), evar=nn.Conv2d(2 * h, z, 1), dec=dec,
                           dmu=nn.Conv2d(dh, 1, 1), dvar=nn.Conv2d(dh, 1, 1)))
    return m


def vae_loss(m, w):
    e = m["enc"](w)
    zm, zv = m["emu"](e), F.softplus(m["evar"](e))
    d = m["dec"](zm + zv.sqrt() * torch.randn_like(zm))
    wm, wv = m["dmu"](d), F.softplus(m["dvar"](d))
    nll = ((w - wm) ** 2 / (2 * wv) + 0.5 * wv.log()).sum() + 0.5 * math.log(2 * math.pi) * w.numel()
    return nll + 0.5 * (zv + zm ** 2 - 1 - zv.log()).sum()


class BayesConv(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.mu = nn.Conv2d(cin, cout, k)
        nn.init.xavier_normal_(self.mu.weight)
        self.logvar = nn.Parameter(torch.full_like(self.mu.weight, -10.0))

    def forward(self, x):
        m = self.mu(x)
        v = F.conv2d(x * x, self.logvar.exp())
        return m + (v + 1e-12).sqrt() * torch.randn_like(m)

    def kl_dwp(self, vae_model):
        k = self.mu.weight.shape[-1]
        sigma = (self.logvar.exp() + 1e-12).sqrt()
        qent = -(0.5 * math.log(2 * math.pi * math.e) + sigma.log()).sum()
        qent.backward(retain_graph=True)
        w = (self.mu.weight + sigma * torch.randn_like(sigma)).view(-1, 1, k, k)
        loss = vae_loss(vae_model, w)
        loss.backward()
        return qent.item() + loss.item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    conv1, conv2 = BayesConv(1, 32, 7), BayesConv(32, 128, 5)
    fc = nn.Linear(128 * 9, 10)
    vaes = [vae(7, 2, 32), vae(5, 4, 64)]
    for v in vaes:
        for p in v.parameters():
            p.requires_grad_(False)
    params = list(conv1.parameters()) + list(conv2.parameters()) + list(fc.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    x, y = torch.rand(50, 1, 28, 28), torch.randint(10, (50,))

    def step():
        opt.zero_grad()
        h = F.max_pool2d(F.leaky_relu(conv1(x), 0.01), 2)
        h = F.max_pool2d(F.leaky_relu(conv2(h), 0.01), 2)
        (F.cross_entropy(fc(h.flatten(1)), y, reduction="sum") * 1.0).backward()
        conv1.kl_dwp(vaes[0])
        conv2.kl_dwp(vaes[1])
        opt.step()

    def kl():
        for p in params:
            p.grad = None
        conv1.kl_dwp(vaes[0])
        conv2.kl_dwp(vaes[1])

    v5 = vae(5, 4, 64)
    vopt = torch.optim.Adam(v5.parameters(), lr=1e-3)
    w = 0.1 * torch.randn(128, 1, 5, 5)

    def vae_step():
        vopt.zero_grad()
        vae_loss(v5, w).backward()
        vopt.step()

    for name, f in [("bnn_step", step), ("dwp_kl", kl), ("vae_step", vae_step)]:
        f()
        times = []
        for _ in range(args.reps):
            s = time.perf_counter()
            f()
            times.append(time.perf_counter() - s)
        print(f"{name}: median {sorted(times)[len(times) // 2] * 1e3:.1f} ms ({args.threads} threads)")


if __name__ == "__main__":
    main()
