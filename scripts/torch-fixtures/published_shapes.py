#!/usr/bin/env python3
"""Counts the parameters of every flag set in the guided-diffusion and improved-diffusion READMEs
with the ORIGINAL code (script_util's create functions, randomly initialised, never saved) and
writes packages/converters/fixtures/published-shapes.json: per flag set, the number of state_dict
tensors, the number of parameters and a SHA-256 of the sorted "name:shape" lines. The converter
test recomputes all three from the flags alone.

    TFJS_DIFFUSION_GUIDED_DIFFUSION=/path/to/guided-diffusion \
    TFJS_DIFFUSION_IMPROVED_DIFFUSION=/path/to/improved-diffusion \
    /usr/bin/python3 scripts/torch-fixtures/published_shapes.py packages/converters/fixtures/published-shapes.json
"""
import argparse
import hashlib
import importlib
import json
import os
import sys

import torch as th

G64 = "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --dropout 0.1 --image_size 64 --learn_sigma True --noise_schedule cosine --num_channels 192 --num_head_channels 64 --num_res_blocks 3 --resblock_updown True --use_new_attention_order True --use_fp16 True --use_scale_shift_norm True"
G128 = "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --image_size 128 --learn_sigma True --noise_schedule linear --num_channels 256 --num_heads 4 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True"
G256 = "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --image_size 256 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True"
G256U = G256.replace("--class_cond True", "--class_cond False")
G512 = "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --image_size 512 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 --num_res_blocks 2 --resblock_updown True --use_fp16 False --use_scale_shift_norm True"
GUP256 = "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --large_size 256  --small_size 64 --learn_sigma True --noise_schedule linear --num_channels 192 --num_heads 4 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True"
GUP512 = "--attention_resolutions 32,16 --class_cond True --diffusion_steps 1000 --large_size 512 --small_size 128 --learn_sigma True --noise_schedule linear --num_channels 192 --num_head_channels 64 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True"
GLSUN = "--attention_resolutions 32,16,8 --class_cond False --diffusion_steps 1000 --dropout 0.1 --image_size 256 --learn_sigma True --noise_schedule linear --num_channels 256 --num_head_channels 64 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True"
GLSUN0 = GLSUN.replace("--dropout 0.1", "--dropout 0.0")
GTRAIN128 = "--attention_resolutions 32,16,8 --class_cond True --image_size 128 --learn_sigma True --num_channels 256 --num_heads 4 --num_res_blocks 2 --resblock_updown True --use_fp16 True --use_scale_shift_norm True"
CTRAIN128 = "--image_size 128 --classifier_attention_resolutions 32,16,8 --classifier_depth 2 --classifier_width 128 --classifier_pool attention --classifier_resblock_updown True --classifier_use_scale_shift_norm True"
CSAMPLE128 = CTRAIN128 + " --classifier_scale 1.0 --classifier_use_fp16 True"
IMP_COS = "--diffusion_steps 4000 --noise_schedule cosine"
IMP_NORESCALE_COS = "--diffusion_steps 4000 --noise_schedule cosine --rescale_learned_sigmas False --rescale_timesteps False"
IMP_NORESCALE_LIN4000 = "--diffusion_steps 4000 --noise_schedule linear --rescale_learned_sigmas False --rescale_timesteps False"
IMP_LSUN = "--image_size 256 --num_channels 128 --num_res_blocks 2 --num_heads 1 --learn_sigma True --use_scale_shift_norm False --attention_resolutions 16"
IMP_LSUN_DIFF = "--diffusion_steps 1000 --noise_schedule linear --rescale_learned_sigmas False --rescale_timesteps False"

# name: (source, kind, model or classifier flags, diffusion flags); names of published checkpoints are the presets
FLAG_SETS = {
    "guided-64x64": ("guided-diffusion", "denoiser", G64, ""),
    "guided-64x64-classifier": ("guided-diffusion", "classifier", "--image_size 64 --classifier_depth 4", ""),
    "guided-128x128": ("guided-diffusion", "denoiser", G128, ""),
    "guided-128x128-classifier": ("guided-diffusion", "classifier", "--image_size 128", ""),
    "guided-256x256": ("guided-diffusion", "denoiser", G256, ""),
    "guided-256x256-uncond": ("guided-diffusion", "denoiser", G256U, ""),
    "guided-256x256-classifier": ("guided-diffusion", "classifier", "--image_size 256", ""),
    "guided-512x512": ("guided-diffusion", "denoiser", G512, ""),
    "guided-512x512-classifier": ("guided-diffusion", "classifier", "--image_size 512", ""),
    "guided-64-256-upsampler": ("guided-diffusion", "super-resolution", GUP256, ""),
    "guided-128-512-upsampler": ("guided-diffusion", "super-resolution", GUP512, ""),
    "guided-lsun-bedroom": ("guided-diffusion", "denoiser", GLSUN, ""),
    "guided-lsun-cat": ("guided-diffusion", "denoiser", GLSUN, ""),
    "guided-lsun-horse": ("guided-diffusion", "denoiser", GLSUN, ""),
    "guided-lsun-horse-nodropout": ("guided-diffusion", "denoiser", GLSUN0, ""),
    "improved-imagenet64-uncond": ("improved-diffusion", "denoiser", "--image_size 64 --num_channels 128 --num_res_blocks 3 --learn_sigma True", IMP_COS),
    "improved-cifar10-uncond": ("improved-diffusion", "denoiser", "--image_size 32 --num_channels 128 --num_res_blocks 3 --learn_sigma True --dropout 0.3", IMP_COS),
    "improved-imagenet64-cond": ("improved-diffusion", "denoiser", "--image_size 64 --num_channels 192 --num_res_blocks 3 --learn_sigma True --class_cond True", IMP_NORESCALE_COS),
    "improved-upsample-256": ("improved-diffusion", "super-resolution", "--num_channels 192 --num_res_blocks 2 --learn_sigma True --class_cond True", IMP_NORESCALE_LIN4000),
    "improved-lsun-bedroom-1200k": ("improved-diffusion", "denoiser", IMP_LSUN, IMP_LSUN_DIFF),
    "improved-lsun-bedroom-2400k": ("improved-diffusion", "denoiser", IMP_LSUN, IMP_LSUN_DIFF + " --use_scale_shift_norm False"),
    "improved-imagenet64-uncond-vlb": ("improved-diffusion", "denoiser", "--image_size 64 --num_channels 128 --num_res_blocks 3 --learn_sigma True", IMP_COS + " --use_kl True"),
    "improved-cifar10-uncond-vlb": ("improved-diffusion", "denoiser", "--image_size 32 --num_channels 128 --num_res_blocks 3 --learn_sigma True --dropout 0.3", IMP_COS + " --use_kl True"),
    # README flag sets without a published checkpoint (training examples)
    "readme:improved-training-example": ("improved-diffusion", "denoiser", "--image_size 64 --num_channels 128 --num_res_blocks 3", "--diffusion_steps 4000 --noise_schedule linear"),
    "readme:guided-train-classifier-128": ("guided-diffusion", "classifier", CTRAIN128, ""),
    "readme:guided-sample-128-model": ("guided-diffusion", "denoiser", GTRAIN128, ""),
    "readme:guided-sample-128-classifier": ("guided-diffusion", "classifier", CSAMPLE128, ""),
}


def modules(variable, package):
    root = os.environ.get(variable)
    if not root:
        sys.exit(f"set {variable}")
    for name in list(sys.modules):
        if name.startswith(package):
            del sys.modules[name]
    sys.path.insert(0, root)
    script_util = importlib.import_module(f"{package}.script_util")
    sys.path.pop(0)
    return script_util


def build(script_util, kind, flags, diffusion_flags):
    if kind == "classifier":
        defaults = script_util.classifier_and_diffusion_defaults()
        create = script_util.create_classifier_and_diffusion
        # classifier_scale is a sampling flag of classifier_sample.py
        defaults = dict(defaults, classifier_scale=1.0)
    elif kind == "super-resolution":
        defaults = script_util.sr_model_and_diffusion_defaults()
        create = script_util.sr_create_model_and_diffusion
    else:
        defaults = script_util.model_and_diffusion_defaults()
        create = script_util.create_model_and_diffusion
    parser = argparse.ArgumentParser()
    script_util.add_dict_to_argparser(parser, defaults)
    arguments = vars(parser.parse_args(f"{flags} {diffusion_flags}".split()))
    arguments.pop("classifier_scale", None)
    model, _ = create(**arguments)
    return model


def main():
    output = sys.argv[1]
    th.set_num_threads(2)
    results = {}
    for source, variable, package in (("guided-diffusion", "TFJS_DIFFUSION_GUIDED_DIFFUSION", "guided_diffusion"),
                                      ("improved-diffusion", "TFJS_DIFFUSION_IMPROVED_DIFFUSION", "improved_diffusion")):
        script_util = modules(variable, package)
        for name, (flag_source, kind, flags, diffusion_flags) in FLAG_SETS.items():
            if flag_source != source:
                continue
            model = build(script_util, kind, flags, diffusion_flags)
            state = model.state_dict()
            lines = sorted(f"{key}:{','.join(str(size) for size in tensor.shape)}" for key, tensor in state.items())
            results[name] = {
                "from": source,
                "kind": kind,
                "flags": flags,
                "diffusionFlags": diffusion_flags,
                "tensors": len(lines),
                "parameters": int(sum(tensor.numel() for tensor in state.values())),
                "sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
            }
            print(name, results[name]["parameters"], flush=True)
            del model, state
    with open(output, "w") as file:
        json.dump({"torch": th.__version__, "flagSets": results}, file, indent=2)
        file.write("\n")


if __name__ == "__main__":
    main()
