import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileByteSource, writeFileStreamAtomically } from '@tfjs-diffusion/checkpoints/node';
import { readModelFileEntries, readTorchWeights } from '@tfjs-diffusion/checkpoints';
import { convertAdmCheckpointTo } from '@tfjs-diffusion/converters';
import { DiffusionError, createNoiseSource } from '@tfjs-diffusion/core';
import { maxAbsDifference, readFloat32File, writeLargeImagesInput, type LargeImagesInput } from './large-images-files.js';
import type { ForwardFigures } from './large-images-line.js';
import { measureMachinePeak, type MachinePeak } from './machine-peak.js';
import type { ProfileRow } from './profile-table.js';
import {
  admPeerDevice,
  exportAdmOnnx,
  runOnnxruntimeForwards,
  runOursForwards,
  runPytorchForwards,
  type AdmPeerModel,
  type RunnerRequest,
} from './large-images-processes.js';
import { isUpToDate, largeImagesSettings, type BenchLargeImagesOptions, type LargeImagesSettings } from './large-images-settings.js';
import {
  extraNumber,
  outputDifference,
  peerRatio,
  runnerFigures,
  type LargeImagesBatch,
  type PeerRatio,
  type RunnerFigures,
} from './large-images-summary.js';
import { torchAvailable } from './torch-peer.js';

/** What `tfjs-diffusion bench --architecture NAME --json` prints. */
export interface LargeImagesReport {
  readonly architecture: string;
  readonly modelFlags: string;
  readonly checkpoint: string;
  readonly modelFile: string;
  readonly onnxModel?: string;
  /** Parameters of our network and of PyTorch's (ours has one more class-embedding row: the converter's all-zero null label). */
  readonly parameters: { readonly ours: number; readonly pytorch?: number };
  readonly iterations: number;
  readonly warmup: number;
  readonly seed: number;
  /** Our backend, and where the PyTorch peer ran ('cuda' by default with webgpu; onnxruntime-node always runs on CPU). */
  readonly backend: string;
  readonly peerDevice: string;
  /** How `flops` is counted. */
  readonly flopsMethod: string;
  /** The machine's float32 FMA peak for the peers' thread count (measureMachinePeak), when the native addon can measure it. */
  readonly peak?: MachinePeak;
  /** Each peer not run, with the reason. */
  readonly absent: Readonly<Record<string, string>>;
  readonly batches: readonly LargeImagesBatch[];
}

/** A seeded input in the peers' layout: x ~ N(0, 1) NCHW, integer timesteps in [0, timesteps), labels in [0, classes) or null. */
export function largeImagesInput(
  batch: number,
  size: number,
  channels: number,
  classes: number | null,
  seed: number,
  timesteps = 1000,
): LargeImagesInput {
  const noise = createNoiseSource(`${seed}:large-images:${batch}`);
  const x = Float32Array.from(noise.normal([batch * channels * size * size]));
  const uniform = noise.uniform(2 * batch);
  return {
    batch,
    channels,
    size,
    x,
    timesteps: Array.from({ length: batch }, (_, index) => Math.floor((uniform[index] as number) * timesteps)),
    labels: classes === null ? null : Array.from({ length: batch }, (_, index) => Math.floor((uniform[batch + index] as number) * classes)),
  };
}

/** Converts the checkpoint into our model file (float32, streamed) unless an up-to-date one is there. */
function ensureModelFile(settings: LargeImagesSettings, log: (line: string) => void): void {
  if (isUpToDate(settings.modelFile, settings.checkpoint)) {
    log(`large-images: reusing ${settings.modelFile} (newer than the checkpoint)`);
    return;
  }
  const started = performance.now();
  const source = fileByteSource(settings.checkpoint);
  try {
    const weights = readTorchWeights(source, settings.checkpoint);
    const converted = writeFileStreamAtomically(settings.modelFile, (write) =>
      convertAdmCheckpointTo({ from: 'guided-diffusion', modelFlags: settings.modelFlags, weights, dtype: 'F32' }, write),
    );
    log(
      `large-images: converted ${settings.checkpoint} to ${settings.modelFile} (${converted.parameterCount.toLocaleString('en-US')} parameters, F32) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    source.close();
  }
}

/** The model file's image shape and class count, from its header. */
function modelShape(modelFile: string): { size: number; channels: number; classes: number | null; timesteps: number } {
  const source = fileByteSource(modelFile);
  try {
    const { metadata } = readModelFileEntries(source, modelFile);
    const [height, width, channels] = metadata.data.shape as [number, number, number];
    if (height !== width)
      throw new DiffusionError('invalid-argument', `${modelFile} holds ${height}x${width} images; the benchmark takes square ones`);
    return { size: height, channels, classes: metadata.conditioning?.numClasses ?? null, timesteps: metadata.schedule?.timesteps ?? 1000 };
  } finally {
    source.close();
  }
}

interface FoundPeers {
  readonly pytorch?: AdmPeerModel;
  readonly onnxruntime?: { readonly model: string; readonly ortDir: string };
  readonly absent: Record<string, string>;
}

/** Finds the peers (logging each one absent with the reason) and exports the ONNX model when it is missing or older than the checkpoint. */
async function findLargeImagesPeers(settings: LargeImagesSettings, log: (line: string) => void): Promise<FoundPeers> {
  const absent: Record<string, string> = {};
  if (settings.skipPeers) return { absent: { pytorch: 'skipped (--skip-peer)', onnxruntime: 'skipped (--skip-peer)' } };
  let pytorch: AdmPeerModel | undefined;
  // PyTorch on CPU, for the ONNX export (also when the timing peer is on CUDA, or absent for want of CUDA)
  let exporter: AdmPeerModel | undefined;
  const guided = settings.guidedDiffusion;
  if (guided === undefined) absent['pytorch'] = 'no guided-diffusion checkout: give --guided-diffusion DIR or $TFJS_DIFFUSION_GUIDED_DIFFUSION';
  else if (!existsSync(join(guided.folder, 'guided_diffusion', 'unet.py')))
    absent['pytorch'] = `${guided.folder} (from ${guided.from}) is not a checkout of openai/guided-diffusion (no guided_diffusion/unet.py)`;
  else if (!(await torchAvailable())) absent['pytorch'] = '/usr/bin/python3 cannot import torch (Debian: apt-get install -y python3-torch)';
  else {
    exporter = {
      guidedDiffusion: guided.folder,
      modelFlags: settings.modelFlags,
      checkpoint: settings.checkpoint,
      threads: settings.threads,
      device: 'cpu',
    };
    if (settings.peerDevice === 'cpu') pytorch = exporter;
    else {
      try {
        const device = await admPeerDevice(settings.peerDevice);
        log(`large-images: PyTorch ${device.version} runs on ${device.device} (${device.name})`);
        pytorch = { ...exporter, device: settings.peerDevice };
      } catch (error) {
        absent['pytorch'] = (error as Error).message;
      }
    }
  }
  let onnxruntime: FoundPeers['onnxruntime'];
  const ortDir = settings.ortDir;
  const model = settings.onnxModel;
  if (ortDir === undefined || model === undefined) absent['onnxruntime'] = 'not asked for (--ort-dir DIR or $TFJS_DIFFUSION_ORT_DIR)';
  else if (!existsSync(join(ortDir.folder, 'node_modules', 'onnxruntime-node')))
    absent['onnxruntime'] =
      `${ortDir.folder}/node_modules/onnxruntime-node (from ${ortDir.from}) does not exist (in ${ortDir.folder}: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30.0)`;
  else if (isUpToDate(model, settings.checkpoint)) onnxruntime = { model, ortDir: ortDir.folder };
  else if (exporter === undefined)
    absent['onnxruntime'] = `${model} is missing or older than the checkpoint, and exporting it needs the PyTorch peer (${absent['pytorch']})`;
  else {
    log(`large-images: exporting ${model} with adm_peer.py --export-onnx`);
    try {
      const exported = await exportAdmOnnx(exporter, model, settings.timeoutMs);
      log(
        `large-images: exported ${model} (${String(exported['bytes'])} bytes, opset ${String(exported['opset'])}) in ${String(exported['export_s'])} s`,
      );
      onnxruntime = { model, ortDir: ortDir.folder };
    } catch (error) {
      absent['onnxruntime'] = `the ONNX export failed: ${(error as Error).message}`;
    }
  }
  for (const [peer, reason] of Object.entries(absent)) log(`peer: ${peer} absent: ${reason}`);
  return { ...(pytorch ? { pytorch } : {}), ...(onnxruntime ? { onnxruntime } : {}), absent };
}

const optionalMiB = (key: string, value: number | undefined): Record<string, number> => (value === undefined ? {} : { [key]: value });

const FLOPS_METHOD =
  'convolution and matrix-product kernels of our forward at that batch size (tf.profile kernel shapes, 2 per multiply-add; GroupNorm as its two sums); the same count is used for every runner';

/**
 * The large-images benchmark of issue 14: one forward of an ADM U-Net (default guided-diffusion's
 * ImageNet-64 architecture) from the same float32 checkpoint in ours (loadPipeline on wasm + the
 * native kernels, or on webgpu), PyTorch (the original UNetModel; on CUDA when ours is on webgpu)
 * and onnxruntime-node (its ONNX export, on CPU), each
 * batch size and runner in its own process (so max RSS is per batch size), on the same seeded input;
 * wall and CPU seconds per forward, peak memory, GFLOP/s, ratios and the outputs' max abs differences.
 */
export async function benchLargeImages(options: BenchLargeImagesOptions): Promise<LargeImagesReport> {
  const settings = largeImagesSettings(options);
  const { log } = options;
  ensureModelFile(settings, log);
  const shape = modelShape(settings.modelFile);
  const peers = await findLargeImagesPeers(settings, log);
  const peak = await measureMachinePeak(settings.threads);
  if (peak === undefined) log('large-images: no AVX-512 peak (the native addon is not built or the CPU lacks AVX-512F); no share of peak');
  const folder = mkdtempSync(join(tmpdir(), 'tfjs-diffusion-large-images-'));
  const batches: LargeImagesBatch[] = [];
  const parameters: { ours: number; pytorch?: number } = { ours: 0 };
  try {
    for (const batch of settings.batchSizes) {
      const input = join(folder, `input-${batch}.json`);
      writeLargeImagesInput(input, largeImagesInput(batch, shape.size, shape.channels, shape.classes, settings.seed, shape.timesteps));
      const request = (name: string): RunnerRequest => ({
        input,
        output: join(folder, `${name}-${batch}.f32`),
        iterations: settings.iterations,
        warmup: settings.warmup,
        timeoutMs: settings.timeoutMs,
      });
      const where = `batch ${batch}`;
      let load = loadavg()[0] as number;
      log(`large-images: ours, ${where} (load ${load.toFixed(2)})`);
      const oursLine = await runOursForwards({ ...request('ours'), modelFile: settings.modelFile, backend: settings.backend });
      const flops = Number(oursLine.extra['flops']);
      parameters.ours = oursLine.parameters ?? parameters.ours;
      const oursOutput = readFloat32File(request('ours').output);
      const ours = {
        // a share of the CPU's peak only for runners on the CPU
        ...runnerFigures(oursLine, load, flops, settings.backend === 'webgpu' ? undefined : peak?.gflops),
        backend: String(oursLine.extra['backend']),
        backendReason: String(oursLine.extra['backend_reason']),
        nativeThreads: Number(oursLine.extra['native_threads']),
        ...(typeof oursLine.extra['thread_cpu_s_per_forward'] === 'number' ? { threadCpuSeconds: oursLine.extra['thread_cpu_s_per_forward'] } : {}),
        tensorPeakMiB: Number(oursLine.extra['tensor_peak_mib']),
        weightsMiB: Number(oursLine.extra['weights_mib']),
        ...optionalMiB('tfjsGpuInUseMiB', extraNumber(oursLine.extra, 'tfjs_gpu_in_use_mib')),
        ...optionalMiB('tfjsGpuAllocatedMiB', extraNumber(oursLine.extra, 'tfjs_gpu_allocated_mib')),
        kernels: Array.isArray(oursLine.extra['kernels']) ? (oursLine.extra['kernels'] as ProfileRow[]) : [],
      };
      log(`large-images: ours, ${where}: ${ours.wallSeconds} s per forward, ${ours.cpuSeconds} CPU s, peak ${ours.peakMiB} MiB`);
      const failed: Record<string, string> = {};
      const compare = async (
        name: 'pytorch' | 'onnxruntime',
        run: (() => Promise<ForwardFigures>) | undefined,
      ): Promise<(RunnerFigures & { difference: ReturnType<typeof outputDifference> }) | undefined> => {
        if (run === undefined) return undefined;
        load = loadavg()[0] as number;
        log(`large-images: ${name}, ${where} (load ${load.toFixed(2)})`);
        try {
          const line = await run();
          const figures = runnerFigures(line, load, flops, name === 'pytorch' && settings.peerDevice === 'cuda' ? undefined : peak?.gflops);
          if (name === 'pytorch' && line.parameters !== undefined) parameters.pytorch = line.parameters;
          const difference = outputDifference(maxAbsDifference(oursOutput, readFloat32File(request(name).output)), line.output.maxAbs);
          log(
            `large-images: ${name}, ${where}: ${figures.wallSeconds} s per forward, peak ${figures.peakMiB} MiB, max abs difference from ours ${difference.maxAbs}`,
          );
          return { ...figures, difference };
        } catch (error) {
          failed[name] = (error as Error).message;
          log(`large-images: ${name}, ${where} failed: ${(error as Error).message}`);
          return undefined;
        }
      };
      const torchModel = peers.pytorch;
      const pytorch = await compare('pytorch', torchModel && (() => runPytorchForwards(torchModel, { ...request('pytorch'), batch })));
      const ortModel = peers.onnxruntime;
      const onnxruntime = await compare(
        'onnxruntime',
        ortModel &&
          (() => runOnnxruntimeForwards({ ...request('onnxruntime'), model: ortModel.model, ortDir: ortModel.ortDir, threads: settings.threads })),
      );
      const ratio: { pytorch?: PeerRatio; onnxruntime?: PeerRatio } = {
        ...(pytorch ? { pytorch: peerRatio(ours, pytorch) } : {}),
        ...(onnxruntime ? { onnxruntime: peerRatio(ours, onnxruntime) } : {}),
      };
      batches.push({
        batch,
        flops,
        ours,
        ...(pytorch ? { pytorch } : {}),
        ...(onnxruntime ? { onnxruntime } : {}),
        ratio,
        ...(Object.keys(failed).length > 0 ? { failed } : {}),
      });
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  return {
    architecture: settings.architecture,
    modelFlags: settings.modelFlags,
    checkpoint: settings.checkpoint,
    modelFile: settings.modelFile,
    ...(peers.onnxruntime ? { onnxModel: peers.onnxruntime.model } : {}),
    parameters,
    iterations: settings.iterations,
    warmup: settings.warmup,
    seed: settings.seed,
    backend: settings.backend,
    peerDevice: settings.peerDevice,
    flopsMethod: FLOPS_METHOD,
    ...(peak ? { peak } : {}),
    absent: peers.absent,
    batches,
  };
}
