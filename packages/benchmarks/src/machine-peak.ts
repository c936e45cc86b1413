import { loadNativeKernels } from '@tfjs-diffusion/backends/node';

/** The machine's float32 peak for the threads a benchmark uses, and how it was found. */
export interface MachinePeak {
  /** FLOP/s of one core, measured. */
  readonly gflopsPerCore: number;
  readonly threads: number;
  /** gflopsPerCore * threads. */
  readonly gflops: number;
  readonly method: string;
}

/**
 * Measures one core's AVX-512 FMA peak with the native addon (16 independent 512-bit FMA chains,
 * FLOPs per second of the thread's own CPU time, so other load does not lower it) and scales it to
 * `threads` cores; undefined when the addon is not built or the CPU has no AVX-512F.
 */
export async function measureMachinePeak(threads: number, seconds = 0.3): Promise<MachinePeak | undefined> {
  const status = await loadNativeKernels();
  if (!status.available || typeof status.addon.fmaPeak !== 'function') return undefined;
  const flops = status.addon.fmaPeak(seconds);
  if (!(flops > 0)) return undefined;
  const gflopsPerCore = Math.round(flops / 1e8) / 10;
  return {
    gflopsPerCore,
    threads,
    gflops: Math.round(gflopsPerCore * threads * 10) / 10,
    method: `AVX-512 FMA (16 independent zmm chains, ${seconds} s of thread CPU time) on one core, times ${threads} threads`,
  };
}
