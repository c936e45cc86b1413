#!/usr/bin/env python3
"""Writes a real-size checkpoint with random weights, built by the ORIGINAL guided-diffusion code
from a published flag string, for measuring conversion and loading memory (docs/published-models.md).
The file is large (ImageNet-64 ADM in float16: ~592 MB): write it outside the repository.

    TFJS_DIFFUSION_GUIDED_DIFFUSION=/path/to/guided-diffusion \
    /usr/bin/python3 scripts/torch-fixtures/make_random_checkpoint.py /tmp/64x64_random_f16.pt [--float32] [--flags "..."]

The default flags are MODEL_FLAGS of the 64x64 ImageNet model of the guided-diffusion README.
The weights are PyTorch's default initialisation (zero_module layers stay zero); the storages are
float16 unless --float32 is given, as the state_dict of a model run with use_fp16.
"""
import argparse
import importlib
import os
import sys

import torch as th

G64 = "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --dropout 0.1 --image_size 64 --learn_sigma True --noise_schedule cosine --num_channels 192 --num_head_channels 64 --num_res_blocks 3 --resblock_updown True --use_new_attention_order True --use_fp16 True --use_scale_shift_norm True"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--flags", default=G64)
    parser.add_argument("--float32", action="store_true")
    options = parser.parse_args()
    root = os.environ.get("TFJS_DIFFUSION_GUIDED_DIFFUSION")
    if not root or not os.path.isdir(os.path.join(root, "guided_diffusion")):
        sys.exit("set TFJS_DIFFUSION_GUIDED_DIFFUSION to a checkout containing guided_diffusion/")
    sys.path.insert(0, root)
    script_util = importlib.import_module("guided_diffusion.script_util")
    flag_parser = argparse.ArgumentParser()
    script_util.add_dict_to_argparser(flag_parser, script_util.model_and_diffusion_defaults())
    arguments = vars(flag_parser.parse_args(options.flags.split()))
    th.manual_seed(0)
    model, _ = script_util.create_model_and_diffusion(**arguments)
    state = model.state_dict()
    if not options.float32:
        state = {name: tensor.half() for name, tensor in state.items()}
    th.save(state, options.out)
    print(options.out, sum(tensor.numel() for tensor in state.values()), "parameters", "float32" if options.float32 else "float16")


if __name__ == "__main__":
    main()
