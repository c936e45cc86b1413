import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type DiffusionModel, type NoiseSchedule } from '@tfjs-diffusion/core';
import { sampleDdim, sampleDdpm, sampleDpmSolverPlusPlus2M, sampleEuler, sampleEulerAncestral, sampleHeun } from '@tfjs-diffusion/samplers';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { expect, it } from 'vitest';

import { describeOnBackends, maxAbs, maxAbsDifference, readAndDispose, reportMeasurement, type ConformanceBackend } from './describe-on-backends.js';
import { MLP_SHAPE, TINY_UNET_SHAPE, createTinyMlp, createTinyUNet } from './fixtures.js';
import { cpuReference } from './reference.js';

/** Max abs difference of 2-D samples (O(1): the printed |x|) from cpu's, same seeds and parameters. */
const SAMPLE_TOLERANCE: Record<ConformanceBackend, number> = { cpu: 0, wasm: 1e-4, webgpu: 1e-3 };

const full = createSchedule({ kind: 'linear', timesteps: 1000 });
const ddim20 = respaceSchedule(full, 'ddim20');
const ddpm25 = respaceSchedule(full, '25');

type SamplerRun = (model: DiffusionModel, schedule: NoiseSchedule, shape: readonly number[], seed: string) => Promise<tf.Tensor>;

const SAMPLERS: Record<string, { readonly run: SamplerRun; readonly schedule: NoiseSchedule }> = {
  'DDIM eta=0': {
    run: (model, schedule, shape, seed) => sampleDdim({ model, schedule, shape, noise: createNoiseSource(seed), eta: 0 }),
    schedule: ddim20,
  },
  DDPM: { run: (model, schedule, shape, seed) => sampleDdpm({ model, schedule, shape, noise: createNoiseSource(seed) }), schedule: ddpm25 },
  'DDIM eta=1': {
    run: (model, schedule, shape, seed) => sampleDdim({ model, schedule, shape, noise: createNoiseSource(seed), eta: 1 }),
    schedule: ddim20,
  },
  Euler: { run: (model, schedule, shape, seed) => sampleEuler({ model, schedule, shape, noise: createNoiseSource(seed) }), schedule: ddim20 },
  'Euler ancestral': {
    run: (model, schedule, shape, seed) => sampleEulerAncestral({ model, schedule, shape, noise: createNoiseSource(seed) }),
    schedule: ddim20,
  },
  Heun: { run: (model, schedule, shape, seed) => sampleHeun({ model, schedule, shape, noise: createNoiseSource(seed) }), schedule: ddim20 },
  'DPM-Solver++(2M)': {
    run: (model, schedule, shape, seed) => sampleDpmSolverPlusPlus2M({ model, schedule, shape, noise: createNoiseSource(seed) }),
    schedule: ddim20,
  },
};

/**
 * Samples of the fixed MLP (seeded parameters, PyTorch-style init with a non-zero output layer) with
 * one sampler. It predicts x0, so that an untrained network still gives O(1) samples (an untrained
 * epsilon predictor gives x0 = (x - sqrt(1 - aBar) eps) / sqrt(aBar), hundreds at the first steps).
 */
async function mlpSamples(samplerName: string): Promise<Float32Array> {
  const sampler = SAMPLERS[samplerName] as (typeof SAMPLERS)[string];
  const model = createTinyMlp('conformance-sampling', { variance: 'fixed-small', prediction: 'x0' });
  try {
    return await readAndDispose(await sampler.run(model, sampler.schedule, MLP_SHAPE, `sampling:${samplerName}`));
  } finally {
    model.dispose();
  }
}

describeOnBackends(
  'sampling',
  (backend) => {
    it.each(['DDIM eta=0', 'DDPM'])('the same seed gives the same samples as cpu (%s, fixed MLP, 2-D)', async (samplerName) => {
      const reference = await cpuReference(`samples:${samplerName}`, () => mlpSamples(samplerName));
      const samples = await mlpSamples(samplerName);
      const difference = maxAbsDifference(samples, reference);
      reportMeasurement(
        `${samplerName} samples vs cpu (|x| up to ${maxAbs(reference).toFixed(2)})`,
        backend.name,
        difference,
        SAMPLE_TOLERANCE[backend.name] || 1e-30,
      );
      expect(difference).toBeLessThanOrEqual(SAMPLE_TOLERANCE[backend.name]);
    });

    it('every sampler leaves numTensors unchanged (MLP)', async () => {
      const model = createTinyMlp('conformance-sampling-leak', { variance: 'fixed-small' });
      const counts: Record<string, [number, number]> = {};
      for (const [name, sampler] of Object.entries(SAMPLERS)) {
        const before = tf.memory().numTensors;
        const sample = await sampler.run(model, sampler.schedule, MLP_SHAPE, `leak:${name}`);
        const during = tf.memory().numTensors;
        sample.dispose();
        counts[name] = [during - before, tf.memory().numTensors - before];
      }
      model.dispose();
      console.log(`conformance: sampler tensor counts [${backend.name}] (returned sample, after disposing it): ${JSON.stringify(counts)}`);
      for (const [name, [during, after]] of Object.entries(counts)) {
        expect(during, `${name} leaves only its sample`).toBe(1);
        expect(after, `${name} leaves nothing once the sample is disposed`).toBe(0);
      }
    });

    it('DDIM and DDPM on a tiny U-Net leave numTensors unchanged', async () => {
      const model = createTinyUNet('conformance-sampling-unet');
      const schedule = respaceSchedule(full, '4');
      for (const name of ['DDIM eta=0', 'DDPM']) {
        const sampler = SAMPLERS[name] as (typeof SAMPLERS)[string];
        const before = tf.memory().numTensors;
        const sample = await sampler.run(model, schedule, TINY_UNET_SHAPE, `unet:${name}`);
        expect(tf.memory().numTensors - before).toBe(1);
        const values = await readAndDispose(sample);
        expect(values.every(Number.isFinite)).toBe(true);
        expect(tf.memory().numTensors).toBe(before);
      }
      model.dispose();
    });
  },
  { batchedSubmits: true },
);
