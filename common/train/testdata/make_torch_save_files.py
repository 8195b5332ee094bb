"""Writes the torch.save files that torch_pickle_test reads (run with Debian's python3-torch 1.13).

    /usr/bin/python3 common/train/testdata/make_torch_save_files.py common/train/testdata

Every tensor is a closed form that the test recomputes: the file is Python's, the values are not.
"""
import collections
import sys

import torch


def state():
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    with torch.no_grad():
        net[0].weight.copy_(torch.arange(6, dtype=torch.float32).view(2, 3) * 0.5)
        net[0].bias.copy_(torch.tensor([-1.0, 2.0]))
        net[1].running_mean.copy_(torch.tensor([0.25, -0.75]))
        net[1].num_batches_tracked.fill_(7)
    sd = net.state_dict()  # an OrderedDict with _metadata
    base = torch.arange(12, dtype=torch.float64).view(3, 4)
    sd["extra.transposed"] = base.t()  # a strided view ...
    sd["extra.row"] = base[1]  # ... and an offset one, of the same storage
    sd["extra.half"] = torch.tensor([1.5, -2.0], dtype=torch.float16)
    sd["extra.flags"] = torch.tensor([True, False, True])
    return sd


def main(out):
    sd = state()
    assert isinstance(sd, collections.OrderedDict)
    torch.save(sd, out + "/state_dict_zip.pt")
    torch.save(sd, out + "/state_dict_legacy.pt", _use_new_zipfile_serialization=False)
    torch.save(torch.nn.Linear(2, 1), out + "/whole_module.pt")
    torch.save({"epoch": 3, "w": torch.zeros(2)}, out + "/dict_with_int.pt")


if __name__ == "__main__":
    main(sys.argv[1])
