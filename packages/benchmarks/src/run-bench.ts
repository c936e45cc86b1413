import { createNoiseSource } from '@tfjs-diffusion/core';
import { unetPresets } from '@tfjs-diffusion/networks';
import { createParallelUNetTrainer, type UNetBatch } from '@tfjs-diffusion/parallel';
import { profileRows, type ProfileRow } from './profile-table.js';

export interface BenchOptions {
  readonly backend: string;
  /** Worker threads (one replica and one core each); 0: the calling thread with its active backend. */
  readonly workers: number;
  readonly batch: number;
  readonly iterations: number;
  readonly warmup: number;
  readonly profile: boolean;
  readonly seed: number | string;
}

export interface BenchResult {
  readonly backend: string;
  readonly config: 'torch-peer';
  readonly batch: number;
  readonly iterations: number;
  readonly parameters: number;
  readonly workers: number;
  readonly threads: number;
  readonly trainImagesPerSec: number;
  readonly evalImagesPerSec: number;
  readonly profile?: { readonly train: readonly ProfileRow[]; readonly eval: readonly ProfileRow[] };
}

/** A seeded batch for the torch-peer config: noisy inputs, epsilon targets, timesteps and labels 0..10. */
export function benchBatch(count: number, seed: number | string): UNetBatch {
  const noise = createNoiseSource(`${seed}:bench`);
  const size = count * 32 * 32;
  const x = Float32Array.from(noise.normal([size]));
  const target = Float32Array.from(noise.normal([size]));
  const uniform = noise.uniform(2 * count);
  const timesteps = Float32Array.from({ length: count }, (_, index) => Math.floor((uniform[index] as number) * 1000));
  const classLabels = Int32Array.from({ length: count }, (_, index) => Math.floor((uniform[count + index] as number) * 11));
  return { count, x, target, timesteps, classLabels };
}

const round = (value: number): number => Math.round(value * 100) / 100;

/**
 * Times the reference configuration of shared/peers/torch_unet.py (the 'torch-peer' U-Net preset,
 * batch 32 by default): training images/s (forward, backward, gradient averaging and Adam) and
 * network evaluations/s (forward only), after `warmup` untimed iterations of each.
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const trainer = await createParallelUNetTrainer({
    config: unetPresets['torch-peer'],
    workers: options.workers,
    backend: options.workers === 0 ? 'current' : options.backend,
  });
  try {
    const batch = benchBatch(options.batch, options.seed);
    for (let step = 0; step < options.warmup; step += 1) await trainer.step(batch);
    let started = performance.now();
    for (let step = 0; step < options.iterations; step += 1) await trainer.step(batch);
    const trainSeconds = (performance.now() - started) / 1000;
    for (let step = 0; step < options.warmup; step += 1) await trainer.predict(batch);
    started = performance.now();
    for (let step = 0; step < options.iterations; step += 1) await trainer.predict(batch);
    const evalSeconds = (performance.now() - started) / 1000;
    const profile = options.profile
      ? { train: profileRows(await trainer.profile('train', batch)), eval: profileRows(await trainer.profile('eval', batch)) }
      : undefined;
    return {
      backend: trainer.backend,
      config: 'torch-peer',
      batch: options.batch,
      iterations: options.iterations,
      parameters: trainer.parameterCount,
      workers: options.workers,
      threads: Math.max(1, options.workers),
      trainImagesPerSec: round((options.iterations * options.batch) / trainSeconds),
      evalImagesPerSec: round((options.iterations * options.batch) / evalSeconds),
      ...(profile ? { profile } : {}),
    };
  } finally {
    await trainer.dispose();
  }
}
