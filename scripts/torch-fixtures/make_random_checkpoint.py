#!/usr/bin/env python3
"""Writes a real-size checkpoint with random weights, built by the ORIGINAL guided-diffusion or
improved-diffusion code from a published flag string, for measuring conversion and loading memory
(docs/published-models.md). The files are large (ImageNet-64 ADM in float16: ~592 MB): write them
outside the repository.

    TFJS_DIFFUSION_GUIDED_DIFFUSION=/path/to/guided-diffusion \
    /usr/bin/python3 scripts/torch-fixtures/make_random_checkpoint.py /tmp/64x64_random_f16.pt [--float32] [--flags "..."]
    ... make_random_checkpoint.py /tmp/64x64_classifier_random_f16.pt --classifier --flags "--image_size 64 --classifier_depth 4"
    TFJS_DIFFUSION_IMPROVED_DIFFUSION=/path/to/improved-diffusion \
    /usr/bin/python3 scripts/torch-fixtures/make_random_checkpoint.py /tmp/cifar10_random_f16.pt --improved \
        --flags "--image_size 32 --num_channels 128 --num_res_blocks 3 --learn_sigma True --dropout 0.3"

The default flags are MODEL_FLAGS of the 64x64 ImageNet model of the guided-diffusion README.
The weights are PyTorch's default initialisation (zero_module layers stay zero); the storages are
float16 unless --float32 is given, as the state_dict of a model run with use_fp16.
--random-zero-parameters STD fills every parameter that is all zeros (the zero_module layers and
the GroupNorm biases) with normals of that standard deviation, so that a forward pass gives a
non-trivial output to compare between implementations (the large-images benchmark uses 0.02).
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
    parser.add_argument("--classifier", action="store_true", help="guided-diffusion's create_classifier from classifier flags")
    parser.add_argument("--improved", action="store_true", help="improved-diffusion's create_model_and_diffusion")
    parser.add_argument("--random-zero-parameters", type=float, default=0.0, metavar="STD", help="fill all-zero parameters with N(0, STD^2)")
    options = parser.parse_args()
    variable, package = ("TFJS_DIFFUSION_IMPROVED_DIFFUSION", "improved_diffusion") if options.improved else ("TFJS_DIFFUSION_GUIDED_DIFFUSION", "guided_diffusion")
    root = os.environ.get(variable)
    if not root or not os.path.isdir(os.path.join(root, package)):
        sys.exit(f"set {variable} to a checkout containing {package}/")
    sys.path.insert(0, root)
    script_util = importlib.import_module(f"{package}.script_util")
    defaults = script_util.classifier_defaults() if options.classifier else script_util.model_and_diffusion_defaults()
    flag_parser = argparse.ArgumentParser()
    script_util.add_dict_to_argparser(flag_parser, defaults)
    arguments = vars(flag_parser.parse_args(options.flags.split()))
    th.manual_seed(0)
    if options.classifier:
        model = script_util.create_classifier(**arguments)
    else:
        model, _ = script_util.create_model_and_diffusion(**arguments)
    if options.random_zero_parameters > 0:
        with th.no_grad():
            for parameter in model.parameters():
                if not parameter.any():
                    parameter.normal_(0.0, options.random_zero_parameters)
    state = model.state_dict()
    if not options.float32:
        state = {name: tensor.half() for name, tensor in state.items()}
    th.save(state, options.out)
    print(options.out, sum(tensor.numel() for tensor in state.values()), "parameters", "float32" if options.float32 else "float16")


if __name__ == "__main__":
    main()
