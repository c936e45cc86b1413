#!/usr/bin/env python3
"""Writes the small .pt files the torch reader tests of packages/checkpoints use (PyTorch >= 1.6).

    /usr/bin/python3 scripts/torch-fixtures/make_reader_fixtures.py packages/checkpoints/src/test-fixtures
"""
import collections
import io
import os
import pickle
import sys
import zipfile

import torch as th

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
base = th.arange(24, dtype=th.float32).reshape(2, 3, 4) / 8 - 1
state = collections.OrderedDict()
state["conv.weight"] = base.clone()
state["half.weight"] = (base * 3).half()
state["bfloat.weight"] = (base * 5).bfloat16()
state["double.bias"] = th.tensor([0.1, -2.5, 3.25], dtype=th.float64)
state["transposed.weight"] = base.reshape(6, 4).t()  # a strided (non-contiguous) view
shared = th.arange(10, dtype=th.float32)
state["shared.first"] = shared[2:5]  # views of one storage at offsets 2 and 6
state["shared.second"] = shared[6:8]
state["scalar"] = th.tensor(7.5)
th.save(state, os.path.join(out_dir, "state-dict.pt"))
th.save({"state_dict": state, "step": 3}, os.path.join(out_dir, "nested.pt"))
th.save(state, os.path.join(out_dir, "legacy.pt"), _use_new_zipfile_serialization=False)


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
    archive.writestr("archive/data.pkl", pickle.dumps({"weight": Exploit()}, protocol=2))
with open(os.path.join(out_dir, "exploit.pt"), "wb") as file:
    file.write(buffer.getvalue())
