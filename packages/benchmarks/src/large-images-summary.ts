import type { OutputSummary } from './large-images-files.js';
import type { ForwardFigures } from './large-images-line.js';
import type { ProfileRow } from './profile-table.js';

/** One runner's figures at one batch size, as the report prints them. */
export interface RunnerFigures {
  /** The 1-minute load average just before this runner started. */
  readonly loadAverage: number;
  readonly version: string;
  readonly threads: number;
  /** Median wall seconds per forward. */
  readonly wallSeconds: number;
  readonly wallSecondsEach: readonly number[];
  /** Process CPU seconds (all threads) per forward. */
  readonly cpuSeconds: number;
  /** The process's max RSS (MiB): the peak memory of loading the model and running the forwards at this batch size. */
  readonly peakMiB: number;
  /** Max RSS before loading the model (the runtime alone) and right after. */
  readonly rssBeforeLoadMiB: number;
  readonly rssAfterLoadMiB: number;
  readonly loadSeconds: number;
  /** FLOPs of one forward at this batch size / wallSeconds, in GFLOP/s. */
  readonly gflops: number;
  /** gflops / the machine's measured FMA peak for the peers' threads, when measured. */
  readonly shareOfPeak?: number;
  readonly output: OutputSummary;
  /** Where a peer ran, when its line says ('cpu' or 'cuda'; ours says its backend instead), and the device's name (e.g. 'NVIDIA H200'). */
  readonly device?: string;
  readonly deviceName?: string;
  /** On CUDA: torch.cuda.max_memory_allocated() of the process (weights included) and the bytes allocated right after loading, MiB. */
  readonly gpuPeakMiB?: number;
  readonly gpuAfterLoadMiB?: number;
}

/** How a peer's output compares with ours on the same input. */
export interface OutputDifference {
  readonly maxAbs: number;
  /** maxAbs / the largest |value| of the peer's output. */
  readonly relative: number;
}

/**
 * Ours against one peer: speed = peer wall / ours wall, cpu = peer CPU / ours CPU (above 1: ours
 * faster or cheaper), memory = ours peak RSS / peer peak RSS (host memory; the GPU figures get no
 * ratio: ours has no per-process GPU peak to set against torch.cuda.max_memory_allocated()).
 */
export interface PeerRatio {
  readonly speed: number;
  readonly cpu: number;
  readonly memory: number;
}

/** One batch size of the report. */
export interface LargeImagesBatch {
  readonly batch: number;
  /** FLOPs of one forward at this batch size (our kernels' shapes, 2 per multiply-add). */
  readonly flops: number;
  readonly ours: RunnerFigures & {
    readonly backend: string;
    /** How selectBackend started it (on webgpu: the adapter, e.g. "adapter nvidia hopper (NVIDIA H200)"). */
    readonly backendReason: string;
    readonly nativeThreads: number;
    readonly threadCpuSeconds?: number;
    /** tf.profile's peak of live tensor bytes (weights included) and the weights alone, MiB. */
    readonly tensorPeakMiB: number;
    readonly weightsMiB: number;
    /**
     * On webgpu, tf.memory() after the timed forwards: the GPU buffer bytes tfjs-backend-webgpu holds
     * for live tensors (numBytesInGPU) and in all, its pool of freed buffers included (numBytesAllocatedInGPU), MiB.
     */
    readonly tfjsGpuInUseMiB?: number;
    readonly tfjsGpuAllocatedMiB?: number;
    /** The 12 kernels that took longest in one more (profiled, untimed) forward: wall ms summed by kernel name, calls, share. */
    readonly kernels: readonly ProfileRow[];
  };
  readonly pytorch?: RunnerFigures & { readonly difference: OutputDifference };
  readonly onnxruntime?: RunnerFigures & { readonly difference: OutputDifference };
  readonly ratio: { readonly pytorch?: PeerRatio; readonly onnxruntime?: PeerRatio };
  /** A peer that was found but failed at this batch size, with its error. */
  readonly failed?: Readonly<Record<string, string>>;
}

const round = (value: number, digits: number): number => Number(value.toFixed(digits));
const optionalNumber = (key: string, value: number | undefined): Record<string, number> => (value === undefined ? {} : { [key]: round(value, 1) });
const significant = (value: number): number => (value === 0 || !Number.isFinite(value) ? value : Number(value.toPrecision(3)));

/** A runner's JSON-line figures as report figures: GFLOP/s from the forward's FLOPs and the median wall time, and its share of `peakGflops`. */
export function runnerFigures(figures: ForwardFigures, loadAverage: number, flops: number, peakGflops?: number): RunnerFigures {
  const gflops = round(flops / figures.wallSecondsPerForward / 1e9, 2);
  return {
    loadAverage: round(loadAverage, 2),
    version: figures.version,
    threads: figures.threads,
    wallSeconds: figures.wallSecondsPerForward,
    wallSecondsEach: figures.wallSeconds,
    cpuSeconds: figures.cpuSecondsPerForward,
    peakMiB: round(figures.maxRssMiB, 1),
    rssBeforeLoadMiB: round(figures.maxRssBeforeLoadMiB, 1),
    rssAfterLoadMiB: round(figures.maxRssAfterLoadMiB, 1),
    loadSeconds: figures.loadSeconds,
    gflops,
    ...(peakGflops !== undefined && peakGflops > 0 ? { shareOfPeak: round(gflops / peakGflops, 3) } : {}),
    output: figures.output,
    ...(typeof figures.extra['device'] === 'string' ? { device: figures.extra['device'] } : {}),
    ...(typeof figures.extra['device_name'] === 'string' ? { deviceName: figures.extra['device_name'] } : {}),
    ...optionalNumber('gpuPeakMiB', extraNumber(figures.extra, 'gpu_peak_mib')),
    ...optionalNumber('gpuAfterLoadMiB', extraNumber(figures.extra, 'gpu_allocated_after_load_mib')),
  };
}

/** The max abs difference of two outputs and its size relative to the peer's largest value. */
export function outputDifference(maxAbs: number, peerMaxAbs: number): OutputDifference {
  return { maxAbs: significant(maxAbs), relative: significant(peerMaxAbs > 0 ? maxAbs / peerMaxAbs : maxAbs) };
}

/** A finite number under `key` of a runner line's extra keys, else undefined. */
export function extraNumber(extra: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const value = extra[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Ours against a peer measured at the same batch size (see PeerRatio). */
export function peerRatio(ours: RunnerFigures, peer: RunnerFigures): PeerRatio {
  return {
    speed: round(peer.wallSeconds / ours.wallSeconds, 3),
    cpu: round(peer.cpuSeconds / ours.cpuSeconds, 3),
    memory: round(ours.peakMiB / peer.peakMiB, 3),
  };
}
