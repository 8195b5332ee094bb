#!/usr/bin/env python3
"""Times the reference implicit_dl training step in eager PyTorch, to compare with picard_bench.

Written from the behaviour described in shared/specs/implicit_dl.md (not copied): the archive's
ImplicitFunctionInf (row-wise L1 projection of A onto radius 0.95 with a per-row Python loop
over numpy, in place before every forward), Picard forward and adjoint loops with the max-abs
stopping rule, Adam. The setup replays BM_TrainStep's seeded calls (same generator, same order),
so both sides start from identical A, B, C, D and data and report their iteration counts.

  OPENBLAS_CORETYPE=SkylakeX python3 benchmarks/peers/implicit_dl_reference.py --threads=1
"""
import argparse
import time

import numpy as np
import torch


def project_rows_inf(A, v=0.95):
    """The reference's projection: sort-based soft-threshold of each row with L1 norm > v."""
    a_np = A.detach().cpu().numpy()
    out = a_np.copy()
    for i in range(a_np.shape[0]):
        row = a_np[i]
        if np.abs(row).sum() <= v:
            continue
        a = np.sort(np.abs(row))
        s, l = a.sum() - v, len(a)
        for ak in a:
            if s / l > ak:
                s -= ak
                l -= 1
            else:
                break
        alpha = s / l
        out[i] = np.sign(row) * np.maximum(np.abs(row) - alpha, 0)
    return torch.from_numpy(out)


class Stats:
    forward = backward = 0


def picard(step, X, mitr, tol):
    for k in range(mitr):
        X_new = step(X)
        err = torch.norm(X_new - X, float("inf"))
        if err < tol:
            return X, k + 1
        X = X_new
    return X, mitr


class ImplicitInf(torch.autograd.Function):
    mitr = grad_mitr = 300
    tol = grad_tol = 3e-6

    @staticmethod
    def forward(ctx, A, B, X0, U):
        with torch.no_grad():
            A.copy_(project_rows_inf(A))
            Z = B @ U
            X, Stats.forward = picard(lambda X: torch.clamp(A @ X + Z, min=0), X0,
                                      ImplicitInf.mitr, ImplicitInf.tol)
        ctx.save_for_backward(A, B, X, U)
        return X

    @staticmethod
    def backward(ctx, G):
        A, B, X, U = ctx.saved_tensors
        DPhi = ((A @ X + B @ U) > 0).to(X.dtype)
        Zc = DPhi * G
        V, Stats.backward = picard(lambda V: DPhi * (A.T @ V) + Zc, torch.zeros_like(Zc),
                                   ImplicitInf.grad_mitr, ImplicitInf.grad_tol)
        return V @ X.T, V @ U.T, torch.zeros_like(X), B.T @ V


class ImplicitModel(torch.nn.Module):
    def __init__(self, n, p, q):
        super().__init__()
        self.n = n
        # Same order of generator calls as the C++ reset_parameters(): A, B, C, D.
        self.A = torch.nn.Parameter(torch.randn(n, n) / n)
        self.B = torch.nn.Parameter(torch.randn(n, p) / n)
        self.C = torch.nn.Parameter(torch.randn(q, n) / n)
        self.D = torch.nn.Parameter(torch.randn(q, p) / n)

    def forward(self, u):
        U = u.T
        X = ImplicitInf.apply(self.A, self.B, torch.zeros(self.n, U.shape[1]), U)
        return (self.C @ X + self.D @ U).T


def run(n, steps, warm):
    p = 784 if n == 100 else 3072
    torch.manual_seed(0)
    model = ImplicitModel(n, p, 10)
    u = torch.rand(100, p) - 0.5
    if n == 300:
        u = u * 2
    y = torch.randint(10, (100,))
    opt = torch.optim.Adam(model.parameters(), lr=5e-3 if n == 100 else 5e-4)

    def step():
        loss = torch.nn.functional.cross_entropy(model(u), y)
        opt.zero_grad()  # same order as the C++ benchmark
        loss.backward()
        opt.step()
        return Stats.forward + Stats.backward

    for _ in range(warm):
        step()
    times, iters = [], []
    for _ in range(steps):
        t = time.perf_counter()
        iters.append(step())
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times)), float(np.mean(iters))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for n in (100, 300):
        ms, it = run(n, args.steps, warm=50)
        print(f"reference train step n={n}: median {ms:.2f} ms, {it:.1f} iterations (fwd+bwd)")


if __name__ == "__main__":
    main()
