#!/usr/bin/env python3
"""The PyTorch peer of the large-images benchmark (@tfjs-diffusion/benchmarks, `benchLargeImages`):
one ADM U-Net built by the ORIGINAL openai/guided-diffusion code from its README model flags, with
the weights of a .pt state_dict, timed on CPU or CUDA with torch.no_grad() at one batch size.

    /usr/bin/python3 adm_peer.py --checkpoint MODEL.pt --batch 4 --threads 2 [--device cpu|cuda] \\
        [--flags "--image_size 64 ..."] [--guided-diffusion DIR] [--iterations 3] [--warmup 1] \\
        [--input INPUT.json] [--output OUTPUT.f32]
    /usr/bin/python3 adm_peer.py --checkpoint MODEL.pt --export-onnx MODEL.onnx [--flags ...]
    /usr/bin/python3 adm_peer.py --check-device --device cuda

The guided-diffusion checkout comes from --guided-diffusion, else $TFJS_DIFFUSION_GUIDED_DIFFUSION;
nothing of it is copied into this repository. The default flags are the 64x64 ImageNet model's of
its README. --use_fp16 is accepted and turned off: the weights run in float32, as ours do.
AttentionBlock's gradient checkpointing (on whatever the flags say) is bypassed: without gradients
it only wraps the same forward, and torch.onnx cannot trace it.

Timing prints one JSON line: the median wall seconds of --iterations forwards after --warmup
untimed ones, the process CPU seconds per forward (all threads), the max RSS (getrusage; also
before and after loading the model) and a summary of the last output; --output writes that output as little-endian float32, NCHW. One batch
size per process, so the max RSS is that batch size's. INPUT.json holds {batch, channels, size,
x: base64 float32 NCHW, timesteps: [...], labels: [...] | null}; without it the input is seeded
normals, timesteps 0..999 and labels 0..999.

--device cuda (default cpu) moves the model and the input to the first CUDA device, turns TF32 off
(cuDNN allows it by default on Ampere and later, which would make the outputs differ from float32
by ~1e-3), calls torch.cuda.synchronize() before each clock read and after each forward, and adds
the device's name and torch.cuda.max_memory_allocated() (the process's peak of tensor bytes on the
GPU, weights included) to the line; without a CUDA device it exits with status 2 and one line saying
so. --check-device prints {"device", "name", "version"} for --device, or fails the same way.

--export-onnx writes the model with torch.onnx.export (opset 17, which onnxruntime 1.30 reads;
inputs x float32 [B, C, H, W], timesteps int64 [B], y int64 [B] when class-conditional; output
'output' [B, C_out, H, W]; dynamic batch axis) and prints one JSON line.
"""
import argparse
import base64
import importlib
import json
import os
import resource
import statistics
import sys
import time

import numpy as np
import torch as th

IMAGENET_64 = (
    "--attention_resolutions 32,16,8 --class_cond True --diffusion_steps 1000 --dropout 0.1 --image_size 64 "
    "--learn_sigma True --noise_schedule cosine --num_channels 192 --num_head_channels 64 --num_res_blocks 3 "
    "--resblock_updown True --use_new_attention_order True --use_fp16 True --use_scale_shift_norm True"
)
ONNX_OPSET = 17


def max_rss_mib():
    # Linux reports ru_maxrss in KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def check_device(device):
    """The torch device for --device, or exit with one line when it is 'cuda' and PyTorch has none."""
    if device == "cuda" and not th.cuda.is_available():
        why = ("it is built without CUDA (Debian's python3-torch is CPU-only; install a CUDA build of PyTorch)"
               if th.version.cuda is None else f"it is built for CUDA {th.version.cuda} but sees no CUDA device")
        print(f"adm_peer.py: --device cuda, but PyTorch {th.__version__} cannot use CUDA here: {why}", file=sys.stderr)
        sys.exit(2)
    return th.device(device)


def device_name(device):
    return th.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def synchronize(device):
    if device.type == "cuda":
        th.cuda.synchronize(device)


def build_model(guided_diffusion, flags, checkpoint):
    if not guided_diffusion or not os.path.isdir(os.path.join(guided_diffusion, "guided_diffusion")):
        sys.exit(f"adm_peer.py: give --guided-diffusion DIR or $TFJS_DIFFUSION_GUIDED_DIFFUSION: a checkout holding guided_diffusion/ (got {guided_diffusion!r})")
    sys.path.insert(0, guided_diffusion)
    script_util = importlib.import_module("guided_diffusion.script_util")
    unet = importlib.import_module("guided_diffusion.unet")
    # AttentionBlock runs its forward through gradient checkpointing whatever use_checkpoint says
    # (an autograd Function, which torch.onnx cannot trace); without gradients it is the plain call
    unet.checkpoint = lambda function, inputs, parameters, flag: function(*inputs)
    flag_parser = argparse.ArgumentParser(prog="model flags")
    script_util.add_dict_to_argparser(flag_parser, script_util.model_and_diffusion_defaults())
    arguments = vars(flag_parser.parse_args(flags.split()))
    arguments["use_fp16"] = False
    model, _ = script_util.create_model_and_diffusion(**arguments)
    state = th.load(checkpoint, map_location="cpu")
    model.load_state_dict({name: tensor.float() for name, tensor in state.items()}, strict=True)
    del state
    model.float().eval()
    return model, arguments


def read_input(path, batch, arguments, seed):
    channels, size = 3, arguments["image_size"]
    class_count = 1000 if arguments["class_cond"] else 0
    if path is None:
        generator = th.Generator().manual_seed(seed)
        x = th.randn(batch, channels, size, size, generator=generator)
        timesteps = th.arange(batch, dtype=th.int64) * 997 % 1000
        labels = th.arange(batch, dtype=th.int64) * 389 % 1000 if class_count else None
        return x, timesteps, labels
    with open(path) as file:
        data = json.load(file)
    if data["batch"] != batch or data["channels"] != channels or data["size"] != size:
        sys.exit(f"adm_peer.py: {path} holds a [{data['batch']}, {data['channels']}, {data['size']}, {data['size']}] input; the model wants batch {batch}, {channels} channels, {size} pixels")
    x = np.frombuffer(base64.b64decode(data["x"]), dtype="<f4").reshape(batch, channels, size, size)
    timesteps = th.tensor(data["timesteps"], dtype=th.int64)
    labels = th.tensor(data["labels"], dtype=th.int64) if data.get("labels") is not None else None
    if (labels is None) != (class_count == 0):
        sys.exit(f"adm_peer.py: {path} {'lacks' if labels is None else 'has'} labels, the model is {'' if class_count else 'not '}class-conditional")
    return th.from_numpy(x.copy()), timesteps, labels


def export_onnx(model, arguments, path, labels_wanted):
    size = arguments["image_size"]
    # traced at batch 2; the batch axis stays dynamic
    x = th.randn(2, 3, size, size)
    timesteps = th.tensor([10, 500], dtype=th.int64)
    inputs = (x, timesteps, th.tensor([1, 2], dtype=th.int64)) if labels_wanted else (x, timesteps)
    names = ["x", "timesteps", "y"] if labels_wanted else ["x", "timesteps"]
    started = time.perf_counter()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with th.no_grad():
        th.onnx.export(
            model,
            inputs,
            path,
            opset_version=ONNX_OPSET,
            input_names=names,
            output_names=["output"],
            dynamic_axes={**{name: {0: "batch"} for name in names}, "output": {0: "batch"}},
            do_constant_folding=True,
        )
    return time.perf_counter() - started


def output_summary(output):
    values = output.reshape(-1)
    return {
        "shape": list(output.shape),
        "sum": float(values.double().sum()),
        "max_abs": float(values.abs().max()),
        "first": [float(value) for value in values[:4]],
    }


def main():
    parser = argparse.ArgumentParser(description="PyTorch peer of the large-images benchmark (guided-diffusion's UNetModel)")
    parser.add_argument("--checkpoint", help="a state_dict .pt written by the original code (required but with --check-device)")
    parser.add_argument("--flags", default=IMAGENET_64, help="guided-diffusion model flags (default: the 64x64 ImageNet model's)")
    parser.add_argument("--guided-diffusion", default=os.environ.get("TFJS_DIFFUSION_GUIDED_DIFFUSION"))
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--input")
    parser.add_argument("--output")
    parser.add_argument("--export-onnx", metavar="PATH", help="write the ONNX export (always on CPU) instead of timing")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where the timed forwards run (default cpu)")
    parser.add_argument("--check-device", action="store_true", help="print the device --device names, or fail when it is absent")
    options = parser.parse_args()
    device = check_device(options.device)
    if options.check_device:
        print(json.dumps({"device": options.device, "name": device_name(device), "version": th.__version__}))
        return
    if options.checkpoint is None:
        parser.error("--checkpoint is required")
    if options.batch < 1 or options.threads < 1 or options.iterations < 1 or options.warmup < 0:
        sys.exit("adm_peer.py: --batch, --threads and --iterations must be at least 1, --warmup at least 0")
    th.set_num_threads(options.threads)
    rss_before_load = max_rss_mib()
    started = time.perf_counter()
    model, arguments = build_model(options.guided_diffusion, options.flags, options.checkpoint)
    load_seconds = time.perf_counter() - started
    parameters = sum(parameter.numel() for parameter in model.parameters())
    if options.export_onnx:
        seconds = export_onnx(model, arguments, options.export_onnx, arguments["class_cond"])
        print(json.dumps({"peer": "pytorch", "version": th.__version__, "onnx": options.export_onnx, "opset": ONNX_OPSET,
                          "bytes": os.path.getsize(options.export_onnx), "parameters": parameters,
                          "export_s": round(seconds, 3), "max_rss_mib": round(max_rss_mib(), 1)}))
        return
    gpu = {}
    if device.type == "cuda":
        # float32 throughout, as ours and the CPU runners (cuDNN would use TF32 on Ampere and later)
        th.backends.cudnn.allow_tf32 = False
        th.backends.cuda.matmul.allow_tf32 = False
        model.to(device)
        synchronize(device)
        # loading includes the copy to the GPU, as ours on webgpu includes the upload
        load_seconds = time.perf_counter() - started
        gpu["gpu_allocated_after_load_mib"] = round(th.cuda.memory_allocated(device) / 2**20, 1)
    rss_after_load = max_rss_mib()
    x, timesteps, labels = (None if tensor is None else tensor.to(device) for tensor in read_input(options.input, options.batch, arguments, options.seed))
    with th.no_grad():
        for _ in range(options.warmup):
            model(x, timesteps, labels)
        walls = []
        synchronize(device)
        cpu_started = time.process_time()
        for _ in range(options.iterations):
            wall_started = time.perf_counter()
            output = model(x, timesteps, labels)
            synchronize(device)
            walls.append(time.perf_counter() - wall_started)
        cpu_seconds = time.process_time() - cpu_started
    if device.type == "cuda":
        gpu["gpu_peak_mib"] = round(th.cuda.max_memory_allocated(device) / 2**20, 1)
    output = output.float().cpu().contiguous()
    if options.output:
        output.numpy().astype("<f4").tofile(options.output)
    print(json.dumps({
        "peer": "pytorch",
        "version": th.__version__,
        "threads": th.get_num_threads(),
        "batch": options.batch,
        "iterations": options.iterations,
        "warmup": options.warmup,
        "parameters": parameters,
        "load_s": round(load_seconds, 3),
        "wall_s": [round(wall, 4) for wall in walls],
        "wall_s_per_forward": round(statistics.median(walls), 4),
        "cpu_s_per_forward": round(cpu_seconds / options.iterations, 4),
        "max_rss_before_load_mib": round(rss_before_load, 1),
        "max_rss_after_load_mib": round(rss_after_load, 1),
        "max_rss_mib": round(max_rss_mib(), 1),
        "output": output_summary(output),
        "device": options.device,
        "device_name": device_name(device),
        **gpu,
    }))


if __name__ == "__main__":
    main()
