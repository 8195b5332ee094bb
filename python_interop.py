"""The Python side of //:python_interop_test (run by it; needs torch, e.g. Debian's python3-torch).

    python3 python_interop.py DIR

For each model NAME the C++ test wrote DIR/NAME.pt (its state dict) and DIR/NAME_io.pt (a fixed
input and the C++ output), this script
  1. loads the state dict with torch.load into a module with the same parameter names, computes
     the forward pass with its own functional re-implementation of the architecture below and
     compares it with the C++ output;
  2. changes every floating-point tensor (x 0.75 + 0.002), and writes
     torch.save(module.state_dict()) (an OrderedDict, the usual way) to DIR/NAME_py.pt and its
     forward on the same input to DIR/NAME_py_io.pt, which the C++ test loads and checks.
Exit status 1 with one line per mismatch.
"""
import sys

import torch
import torch.nn.functional as F

BUFFERS = ("init_weight", "power_u", "running_mean", "running_var", "num_batches_tracked")


class StateModule(torch.nn.Module):
    """A module whose parameters and buffers carry the dotted names of a C++ state dict."""

    def __init__(self, state):
        super().__init__()
        for name, value in state.items():
            *path, leaf = name.split(".")
            module = self
            for part in path:
                if not hasattr(module, part):
                    module.add_module(part, torch.nn.Module())
                module = getattr(module, part)
            if leaf in BUFFERS:
                module.register_buffer(leaf, torch.empty_like(value))
            else:
                module.register_parameter(leaf, torch.nn.Parameter(torch.empty_like(value)))
        self.load_state_dict(state, strict=True)


def icnn_mlp(p, x):
    """icnn IcnnMlp: Linear, then [ReLU -> Linear with clamp(W, min=0)] per convex layer."""
    h = F.linear(x.flatten(1), p["first.weight"], p["first.bias"])
    i = 0
    while f"convex{i}.weight" in p:
        h = F.linear(F.relu(h), p[f"convex{i}.weight"].clamp(min=0), p[f"convex{i}.bias"])
        i += 1
    return h


def weightnorm_mlp(p, x):
    """weightnorm_init mlp with weight norm: w = g v / ||v|| per output row, ReLU, Linear."""
    h = x.flatten(1)
    i = 0
    while f"layer{i}.weight_v" in p:
        v, g = p[f"layer{i}.weight_v"], p[f"layer{i}.weight_g"]
        w = v * (g.reshape(-1, 1) / v.norm(dim=1, keepdim=True))
        h = F.relu(F.linear(h, w, p[f"layer{i}.bias"]))
        i += 1
    return F.linear(h, p["classifier.weight"], p["classifier.bias"])


def cyclic_conv(x, w, stride):
    """excess_capacity's circular padding: k//2 before, k//2 - (k even) after."""
    k = w.shape[-1]
    before, after = k // 2, k // 2 - (1 - k % 2)
    return F.conv2d(F.pad(x, (before, after, before, after), mode="circular"), w, stride=stride)


def simple_convnet(p, x):
    """excess_capacity simple_convnet6: 5 x [cyclic conv stride 2 -> ReLU], 1x1 conv, flatten."""
    h = x
    for i in range(1, 6):
        h = F.relu(cyclic_conv(h, p[f"conv{i}.weight"], 2))
    return cyclic_conv(h, p["cls.weight"], 1).flatten(1)


def implicit_model(p, u):
    """implicit_dl: x = relu(A x + B u) by Picard iteration (||A||_inf < 1), y = C x + D u."""
    A, B, C, D = p["A"], p["B"], p["C"], p["D"]
    assert A.abs().sum(1).max() < 0.95, "A must be inside the well-posedness ball"
    U = u.t()
    X = torch.zeros(A.shape[0], U.shape[1], dtype=A.dtype)
    for _ in range(500):
        X = F.relu(A @ X + B @ U)
    return (C @ X + D @ U).t()


def dwp_fconv(p, x):
    """deep_weight_prior fconv (vanilla): [conv -> LeakyReLU(0.01) -> MaxPool 2] x 2, Linear."""
    h = x
    for i in (1, 2):
        h = F.max_pool2d(F.leaky_relu(F.conv2d(h, p[f"conv{i}.weight"], p[f"conv{i}.bias"]), 0.01), 2)
    return F.linear(h.flatten(1), p["classifier.weight"], p["classifier.bias"])


MODELS = {
    "icnn_mlp": icnn_mlp,
    "weightnorm_mlp": weightnorm_mlp,
    "excess_capacity_simple_convnet": simple_convnet,
    "implicit_model": implicit_model,
    "dwp_fconv": dwp_fconv,
}


def main(directory):
    failures = []
    for name, forward in MODELS.items():
        state = torch.load(f"{directory}/{name}.pt")
        io = torch.load(f"{directory}/{name}_io.pt")
        module = StateModule(state)
        params = dict(module.state_dict())
        with torch.no_grad():
            out = forward(params, io["input"])
            diff = (out - io["output"]).abs().max().item()
            print(f"{name}: C++ -> Python max |diff| {diff:.3g}")
            if not torch.allclose(out, io["output"], rtol=1e-4, atol=1e-5):
                failures.append(f"{name}: Python forward differs from C++ by {diff:.3g}")
            for value in module.state_dict().values():
                if value.is_floating_point():
                    value.mul_(0.75).add_(0.002)
            torch.save(module.state_dict(), f"{directory}/{name}_py.pt")
            torch.save({"output": forward(dict(module.state_dict()), io["input"])},
                       f"{directory}/{name}_py_io.pt")
    for line in failures:
        print(line, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
