#!/usr/bin/env python3
"""Builds the PyTorch parity fixtures of packages/converters/fixtures with the ORIGINAL code.

Nothing of openai/guided-diffusion or openai/improved-diffusion is copied into this repository:
point the environment at checkouts of them and run

    TFJS_DIFFUSION_GUIDED_DIFFUSION=/path/to/guided-diffusion \
    TFJS_DIFFUSION_IMPROVED_DIFFUSION=/path/to/improved-diffusion \
    /usr/bin/python3 scripts/torch-fixtures/make_fixtures.py packages/converters/fixtures

Each case is a small model built by the repositories' own script_util from a flag string with the
published flag structure (the strings are stored in fixtures.json; the converter test feeds them
to `tfjs-diffusion convert`). To keep the files small, two module constants are patched: the
GroupNorm group count (32 -> 4, which the converter's extension flag --group_norm_groups 4
restates) and NUM_CLASSES (1000 -> 10; the converter reads the class count from label_emb).
The classifiers are EncoderUNetModel instances built as script_util.create_classifier does, with
the channel multipliers and head width given by the extension flags --classifier_channel_mult and
--classifier_num_head_channels instead of the values create_classifier fixes for 64..512 pixels.
One SuperResModel (the upsamplers' class) is built directly at 16 pixels, since sr_create_model
only knows 64..512; its network config is stored beside it.

Writes <case>.pt (torch.save of the state_dict; float16 storages where the case says so),
<case>.safetensors for the adaptive-pool classifier (the same tensors), <case>.io.safetensors (inputs NHWC, t, y
and PyTorch's float32 outputs NHWC; classifier logits and the input gradient of sum log p(y|x_t))
and fixtures.json.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch as th

GROUPS = 4
NUM_CLASSES = 10


def load_repository(variable, package):
    root = os.environ.get(variable)
    if not root or not os.path.isdir(os.path.join(root, package)):
        sys.exit(f"set {variable} to a checkout containing {package}/")
    sys.path.insert(0, root)
    import importlib

    nn_module = importlib.import_module(f"{package}.nn")
    unet = importlib.import_module(f"{package}.unet")
    script_util = importlib.import_module(f"{package}.script_util")
    groups = lambda channels: nn_module.GroupNorm32(GROUPS, channels)
    nn_module.normalization = groups
    unet.normalization = groups
    script_util.NUM_CLASSES = NUM_CLASSES
    sys.path.pop(0)
    return unet, script_util


def parse_flags(script_util, defaults, flags):
    parser = argparse.ArgumentParser()
    script_util.add_dict_to_argparser(parser, defaults)
    return vars(parser.parse_args(flags.split()))


def randomize(model, seed):
    generator = th.Generator().manual_seed(seed)
    with th.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("positional_embedding"):
                parameter.copy_(th.randn(parameter.shape, generator=generator) / parameter.shape[0] ** 0.5)
            elif name.startswith("label_emb"):
                parameter.copy_(th.randn(parameter.shape, generator=generator))
            elif parameter.dim() > 1:
                fan_in = int(np.prod(parameter.shape[1:]))
                bound = 1.5 / fan_in**0.5
                parameter.copy_((th.rand(parameter.shape, generator=generator) * 2 - 1) * bound)
            elif "norm" in name or name.endswith((".in_layers.0.weight", ".out_layers.0.weight", "out.0.weight", "out.1.weight")):
                base = 1.0 if name.endswith("weight") else 0.0
                parameter.copy_(base + 0.1 * th.randn(parameter.shape, generator=generator))
            else:
                parameter.copy_((th.rand(parameter.shape, generator=generator) * 2 - 1) * 0.1)


def write_safetensors(path, tensors):
    header = {}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        array = tensors[name]
        dtype = {np.float32: "F32", np.float16: "F16"}[array.dtype.type]
        data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as file:
        file.write(struct.pack("<Q", len(text)))
        file.write(text)
        for blob in blobs:
            file.write(blob)


def nhwc(tensor):
    return tensor.detach().permute(0, 2, 3, 1).contiguous().numpy().astype(np.float32)


def save_weights(model, out_dir, case, half, safetensors):
    state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    if half:
        state = {name: tensor.half() for name, tensor in state.items()}
        # the outputs are computed with the float16-rounded weights the file holds
        model.load_state_dict({name: tensor.float() for name, tensor in state.items()})
    th.save(state, os.path.join(out_dir, f"{case}.pt"))
    if safetensors:
        write_safetensors(os.path.join(out_dir, f"{case}.safetensors"), {k: v.numpy() for k, v in state.items()})


def denoiser_case(out_dir, case, script_util, flags, diffusion_flags, seed, half=True, safetensors=False, super_resolution=False):
    defaults = script_util.sr_model_and_diffusion_defaults() if super_resolution else script_util.model_and_diffusion_defaults()
    arguments = parse_flags(script_util, defaults, f"{flags} {diffusion_flags}")
    names = script_util.sr_model_and_diffusion_defaults().keys() if super_resolution else script_util.model_and_diffusion_defaults().keys()
    create = script_util.sr_create_model_and_diffusion if super_resolution else script_util.create_model_and_diffusion
    model, diffusion = create(**{key: arguments[key] for key in names})
    # use_fp16 only sets the dtype the torso runs in (the sampling scripts then call convert_to_fp16);
    # the reference outputs are float32
    model.dtype = th.float32
    print(case, sum(parameter.numel() for parameter in model.parameters()), "parameters")
    randomize(model, seed)
    model.eval()
    save_weights(model, out_dir, case, half, safetensors)
    size = arguments["large_size"] if super_resolution else arguments["image_size"]
    generator = th.Generator().manual_seed(seed + 1)
    steps = arguments["diffusion_steps"]
    # two samples at t = 3 and T - 1; one (t = T - 1) at 32 pixels to keep the files small
    batch = 2 if size <= 16 else 1
    x = th.randn((batch, 3, size, size), generator=generator)
    t = th.tensor([3.0, float(steps - 1)][2 - batch:])
    kwargs = {}
    io = {"x": nhwc(x), "t": t.numpy().astype(np.float32)}
    if arguments["class_cond"]:
        y = th.tensor([1, NUM_CLASSES - 3][2 - batch:])
        kwargs["y"] = y
        io["y"] = y.numpy().astype(np.float32)
    if super_resolution:
        low = th.randn((batch, 3, arguments["small_size"], arguments["small_size"]), generator=generator)
        kwargs["low_res"] = low
        io["lowResolution"] = nhwc(low)
    # rescale_timesteps: the diffusion feeds the network t * 1000 / T (improved-diffusion's _scale_timesteps)
    model_t = t * (1000.0 / steps) if arguments["rescale_timesteps"] else t
    with th.no_grad():
        output = model(x, model_t, **kwargs)
    io["output"] = nhwc(output)
    write_safetensors(os.path.join(out_dir, f"{case}.io.safetensors"), io)
    return {"kind": "denoiser", "modelFlags": flags, "diffusionFlags": diffusion_flags}


def classifier_case(out_dir, case, unet, script_util, flags, seed, half=False, safetensors=False):
    defaults = script_util.classifier_defaults()
    defaults.update(classifier_channel_mult="", classifier_num_head_channels=64)
    arguments = parse_flags(script_util, defaults, flags)
    size = arguments["image_size"]
    multipliers = tuple(int(value) for value in arguments["classifier_channel_mult"].split(","))
    attention_ds = [size // int(resolution) for resolution in arguments["classifier_attention_resolutions"].split(",")]
    # as script_util.create_classifier, with the multipliers and head width of the extension flags
    model = unet.EncoderUNetModel(
        image_size=size,
        in_channels=3,
        model_channels=arguments["classifier_width"],
        out_channels=NUM_CLASSES,
        num_res_blocks=arguments["classifier_depth"],
        attention_resolutions=tuple(attention_ds),
        channel_mult=multipliers,
        use_fp16=False,
        num_head_channels=arguments["classifier_num_head_channels"],
        use_scale_shift_norm=arguments["classifier_use_scale_shift_norm"],
        resblock_updown=arguments["classifier_resblock_updown"],
        pool=arguments["classifier_pool"],
    )
    print(case, sum(parameter.numel() for parameter in model.parameters()), "parameters")
    randomize(model, seed)
    model.eval()
    save_weights(model, out_dir, case, half, safetensors)
    generator = th.Generator().manual_seed(seed + 1)
    x = th.randn((2, 3, size, size), generator=generator).requires_grad_(True)
    t = th.tensor([3.0, 999.0])
    y = th.tensor([1, NUM_CLASSES - 3])
    logits = model(x, t)
    selected = th.log_softmax(logits, dim=-1)[th.arange(2), y].sum()
    (gradient,) = th.autograd.grad(selected, x)
    io = {"x": nhwc(x), "t": t.numpy().astype(np.float32), "y": y.numpy().astype(np.float32),
          "logits": logits.detach().numpy().astype(np.float32), "gradient": nhwc(gradient)}
    write_safetensors(os.path.join(out_dir, f"{case}.io.safetensors"), io)
    return {"kind": "classifier", "classifierFlags": flags}


def super_resolution_case(out_dir, case, unet, seed):
    model = unet.SuperResModel(
        image_size=16, in_channels=3, model_channels=4, out_channels=6, num_res_blocks=1, attention_resolutions=(2,),
        channel_mult=(1, 2), num_classes=NUM_CLASSES, num_heads=2, use_scale_shift_norm=True, resblock_updown=True,
    )
    randomize(model, seed)
    model.eval()
    save_weights(model, out_dir, case, True, False)
    generator = th.Generator().manual_seed(seed + 1)
    x = th.randn((1, 3, 16, 16), generator=generator)
    low = th.randn((1, 3, 4, 4), generator=generator)
    t = th.tensor([617.0])
    y = th.tensor([4])
    with th.no_grad():
        output = model(x, t, low_res=low, y=y)
    io = {"x": nhwc(x), "lowResolution": nhwc(low), "t": t.numpy().astype(np.float32), "y": y.numpy().astype(np.float32), "output": nhwc(output)}
    write_safetensors(os.path.join(out_dir, f"{case}.io.safetensors"), io)
    network = {"type": "unet", "imageSize": 16, "inChannels": 3, "modelChannels": 4, "channelMultipliers": [1, 2], "numResBlocks": 1,
               "attentionResolutions": [8], "numHeads": 2, "groupNormGroups": GROUPS, "numClasses": NUM_CLASSES, "resblockUpdown": True,
               "lowResolutionSize": 4, "variance": "learned-range"}
    return {"kind": "super-resolution-unit", "network": network}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else "packages/converters/fixtures"
    os.makedirs(out_dir, exist_ok=True)
    th.set_num_threads(1)
    guided_unet, guided = load_repository("TFJS_DIFFUSION_GUIDED_DIFFUSION", "guided_diffusion")
    for module in list(sys.modules):
        if module.startswith("improved_diffusion"):
            del sys.modules[module]
    _, improved = load_repository("TFJS_DIFFUSION_IMPROVED_DIFFUSION", "improved_diffusion")
    cases = {}
    # guided-diffusion ImageNet-64 structure: new attention order, num_head_channels, resblock_updown, learn_sigma, cosine
    cases["guided-64-style"] = {"from": "guided-diffusion", **denoiser_case(
        out_dir, "guided-64-style", guided,
        "--attention_resolutions 8,4 --class_cond True --diffusion_steps 1000 --dropout 0.1 --image_size 16 --channel_mult 1,2 "
        "--learn_sigma True --noise_schedule cosine --num_channels 4 --num_head_channels 4 --num_res_blocks 1 "
        "--resblock_updown True --use_new_attention_order True --use_fp16 True --use_scale_shift_norm True",
        "", seed=1)}
    # guided-diffusion ImageNet-128 structure: num_heads (legacy order), num_heads_upsample, linear schedule
    cases["guided-128-style"] = {"from": "guided-diffusion", **denoiser_case(
        out_dir, "guided-128-style", guided,
        "--attention_resolutions 8,4 --class_cond True --diffusion_steps 1000 --image_size 16 --channel_mult 1,2 --learn_sigma True "
        "--noise_schedule linear --num_channels 4 --num_heads 4 --num_heads_upsample 2 --num_res_blocks 1 --resblock_updown True "
        "--use_fp16 True --use_scale_shift_norm True",
        "", seed=2)}
    # improved-diffusion CIFAR-10 structure: rescaled timesteps (default True), 4000 cosine steps, dropout
    cases["improved-cifar10-style"] = {"from": "improved-diffusion", **denoiser_case(
        out_dir, "improved-cifar10-style", improved,
        "--image_size 32 --num_channels 4 --num_res_blocks 1 --learn_sigma True --dropout 0.3",
        "--diffusion_steps 4000 --noise_schedule cosine", seed=4)}
    # improved-diffusion LSUN structure: no scale-shift norm, one head, attention at 16
    cases["improved-lsun-style"] = {"from": "improved-diffusion", **denoiser_case(
        out_dir, "improved-lsun-style", improved,
        "--image_size 32 --num_channels 4 --num_res_blocks 1 --num_heads 1 --learn_sigma True --use_scale_shift_norm False "
        "--attention_resolutions 16",
        "--diffusion_steps 1000 --noise_schedule linear --rescale_learned_sigmas False --rescale_timesteps False", seed=5)}
    # guided-diffusion upsampler structure from flags (sr_create_model_and_diffusion, --large_size /
    # --small_size; 64 is the smallest large_size it knows): 16 -> 64 pixels, class-conditional
    cases["guided-upsampler-style"] = {"from": "guided-diffusion", **denoiser_case(
        out_dir, "guided-upsampler-style", guided,
        "--attention_resolutions 8 --class_cond True --diffusion_steps 1000 --large_size 64 --small_size 16 --learn_sigma True "
        "--noise_schedule linear --num_channels 4 --num_heads 1 --num_res_blocks 1 --resblock_updown True --use_fp16 True "
        "--use_scale_shift_norm True",
        "", seed=11, super_resolution=True)}
    # guided-diffusion SuperResModel (the upsamplers' class) at 16 pixels: sr_create_model only knows
    # 64..512, so this one is built directly; the test builds the network config by hand
    cases["guided-super-resolution-unit"] = {"from": "guided-diffusion", **super_resolution_case(out_dir, "guided-super-resolution-unit", guided_unet, seed=10)}
    # every pool of create_classifier: attention (the published classifiers), adaptive, and the
    # spatial heads (the features of every block, mean-pooled, through an MLP of width 2048)
    for pool, seed in (("attention", 6), ("adaptive", 7), ("spatial", 8), ("spatial_v2", 9)):
        name = f"classifier-{pool.replace('_', '-')}"
        cases[name] = {"from": "guided-diffusion", **classifier_case(
            out_dir, name, guided_unet, guided,
            f"--image_size 8 --classifier_attention_resolutions 4 --classifier_depth 1 --classifier_width 4 "
            f"--classifier_pool {pool} --classifier_resblock_updown True --classifier_use_scale_shift_norm True "
            f"--classifier_channel_mult 1,2 --classifier_num_head_channels 4",
            seed=seed, half=True, safetensors=pool == "adaptive")}
    for name, case in cases.items():
        case["weights"] = f"{name}.pt"
        if os.path.exists(os.path.join(out_dir, f"{name}.safetensors")):
            case["safetensors"] = f"{name}.safetensors"
        case["io"] = f"{name}.io.safetensors"
        case["extraFlags"] = f"--group_norm_groups {GROUPS}"
    with open(os.path.join(out_dir, "fixtures.json"), "w") as file:
        json.dump({"torch": th.__version__, "groupNormGroups": GROUPS, "numClasses": NUM_CLASSES, "cases": cases}, file, indent=2)
        file.write("\n")


if __name__ == "__main__":
    main()
