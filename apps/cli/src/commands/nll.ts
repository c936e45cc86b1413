import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource } from '@tfjs-diffusion/core';
import { loadMnist } from '@tfjs-diffusion/data';
import { evaluateBitsPerDim } from '@tfjs-diffusion/objectives';
import { respaceSchedule } from '@tfjs-diffusion/schedules';
import { BACKEND_OPTION } from '../backend-option.js';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { DEFAULT_DENOISER, loadDenoiser, requireFile } from '../checkpoint/load-model.js';
import { loadDataset } from '../mnist/datasets.js';
import { activateImageBackend } from '../mnist/activate.js';
import { choiceOption, integerOption, seedOption, stringOption } from '../options.js';

export const nllCommand: Command = {
  name: 'nll',
  summary: 'bits/dim (the variational bound) of a denoiser on held-out digits',
  usage: [
    'usage: tfjs-diffusion nll [--checkpoint FILE] [options]',
    '',
    '  --checkpoint FILE       (default: models/mnist-unet.safetensors of the repository)',
    '  --dataset NAME          mnist | fashion-mnist: the held-out (test) split (default mnist)',
    '  --n N                   held-out images scored (default 100)',
    '  --respace SPEC          score a respaced chain ("100", "linspace:100", ...) instead of all T steps:',
    '                          much faster, but the bound of the coarser chain (the output says so)',
    '  --unconditional         score with the null class instead of the true labels',
    '  --batch-size B          (default 50)',
    "  --weights ema|model     a training checkpoint's EMA (default) or raw model weights",
    '  --seed S                (default 0)',
    '  --backend NAME          auto | cpu | wasm | webgpu | tensorflow (default: $TFJS_DIFFUSION_BACKEND or auto)',
    '',
    'Prints ONE JSON object: bitsPerDim and its breakdown prior (L_T), decoder (L_0) and klTotal (L_1..L_{N-1}).',
  ].join('\n'),
  options: {
    checkpoint: { type: 'string' },
    dataset: { type: 'string' },
    n: { type: 'string' },
    respace: { type: 'string' },
    unconditional: { type: 'boolean' },
    'batch-size': { type: 'string' },
    weights: { type: 'string' },
    seed: { type: 'string' },
    ...BACKEND_OPTION,
  },
  async run(values, io) {
    const count = integerOption(values, 'n', 100, 1, 100_000);
    const batchSize = integerOption(values, 'batch-size', 50, 1, 10_000);
    const respace = stringOption(values, 'respace');
    const datasetName = stringOption(values, 'dataset') ?? 'mnist';
    if (datasetName !== 'mnist' && datasetName !== 'fashion-mnist')
      throw new UsageError(`--dataset must be one of mnist, fashion-mnist, got '${datasetName}'`);
    const seed = seedOption(values);
    const checkpoint = stringOption(values, 'checkpoint') ?? DEFAULT_DENOISER;
    if (values['checkpoint'] === undefined) requireFile(checkpoint, '--checkpoint', 'train one (tfjs-diffusion train) and pass --checkpoint FILE');
    await activateImageBackend(values, io);
    const dataset = datasetName === 'mnist' ? await loadMnist({ split: 'test' }) : await loadDataset(datasetName, { split: 'test' });
    if (count > dataset.count) throw new UsageError(`--n ${count} exceeds the ${dataset.count} held-out images`);
    const { model, schedule, weights } = await loadDenoiser(checkpoint, choiceOption(values, 'weights', ['ema', 'model'] as const, 'ema'));
    try {
      const scored = respace === undefined ? schedule : respaceSchedule(schedule, respace);
      const conditional = model.config.numClasses !== null;
      const noise = createNoiseSource(seed);
      const imageSize = dataset.height * dataset.width * dataset.channels;
      const totals = { bitsPerDim: 0, prior: 0, decoder: 0, klTotal: 0 };
      const started = performance.now();
      for (let start = 0; start < count; start += batchSize) {
        const size = Math.min(batchSize, count - start);
        const x0 = tf.tensor4d(dataset.images.slice(start * imageSize, (start + size) * imageSize), [
          size,
          dataset.height,
          dataset.width,
          dataset.channels,
        ]);
        const labels = conditional
          ? tf.tensor1d(
              values['unconditional'] ? new Int32Array(size).fill(model.config.numClasses as number) : dataset.labels.slice(start, start + size),
              'int32',
            )
          : undefined;
        try {
          const result = await evaluateBitsPerDim({ model, schedule: scored, x0, noise, ...(labels ? { condition: { classLabels: labels } } : {}) });
          for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += result[key] * size;
        } finally {
          x0.dispose();
          labels?.dispose();
        }
        io.stderr(`scored ${start + size}/${count} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`);
      }
      const T = schedule.timesteps.length;
      io.stdout(
        `${JSON.stringify({
          checkpoint,
          weights,
          dataset: `${datasetName} (test split)`,
          n: count,
          conditioning: conditional ? (values['unconditional'] ? 'null class' : 'true labels') : 'unconditional model',
          trainingTimesteps: T,
          scoredSteps: scored.timesteps.length,
          respace: respace ?? null,
          note:
            respace === undefined
              ? `all ${T} steps scored: the variational bound of the trained model`
              : `respaced to ${scored.timesteps.length} of ${T} steps for speed: the bound of the coarser ${scored.timesteps.length}-step chain, an upper bound that is looser than the ${T}-step one`,
          bitsPerDim: totals.bitsPerDim / count,
          prior: totals.prior / count,
          decoder: totals.decoder / count,
          klTotal: totals.klTotal / count,
          seconds: (performance.now() - started) / 1000,
        })}\n`,
      );
    } finally {
      model.dispose();
    }
  },
};
