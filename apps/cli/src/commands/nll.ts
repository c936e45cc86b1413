import { createNoiseSource } from '@tfjs-diffusion/core';
import { loadDataset, loadMnist } from '@tfjs-diffusion/data';
import { datasetBitsPerDim } from '@tfjs-diffusion/objectives';
import { loadPipeline } from '@tfjs-diffusion/pipelines/node';
import { respaceSchedule } from '@tfjs-diffusion/schedules';
import { BACKEND_OPTION, activateBackend } from '../backend-option.js';
import { DEFAULT_DENOISER, requireFile } from '../checkpoint/default-models.js';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
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
    await activateBackend(values, io);
    const dataset = datasetName === 'mnist' ? await loadMnist({ split: 'test' }) : await loadDataset(datasetName, { split: 'test' });
    if (count > dataset.count) throw new UsageError(`--n ${count} exceeds the ${dataset.count} held-out images`);
    const weights = choiceOption(values, 'weights', ['ema', 'model'] as const, 'ema');
    const pipeline = await loadPipeline(checkpoint, { weights: weights === 'model' ? 'raw' : 'ema' });
    try {
      const { model, schedule, conditioning } = pipeline;
      const scored = respace === undefined ? schedule : respaceSchedule(schedule, respace);
      const conditional = conditioning !== null;
      const nullClass = conditioning?.nullClass ?? null;
      if (values['unconditional'] && conditional && nullClass === null) throw new UsageError('--unconditional needs a model with a null class');
      const started = performance.now();
      const totals = await datasetBitsPerDim({
        model,
        schedule: scored,
        images: dataset.images,
        dataShape: [dataset.height, dataset.width, dataset.channels],
        count,
        labels: conditional ? (values['unconditional'] ? new Int32Array(count).fill(nullClass as number) : dataset.labels) : null,
        batchSize,
        noise: createNoiseSource(seed),
        onBatch: (done) => io.stderr(`scored ${done}/${count} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`),
      });
      const T = schedule.timesteps.length;
      io.stdout(
        `${JSON.stringify({
          checkpoint,
          weights: pipeline.weights === 'ema' ? 'ema' : 'model',
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
          bitsPerDim: totals.bitsPerDim,
          prior: totals.prior,
          decoder: totals.decoder,
          klTotal: totals.klTotal,
          seconds: (performance.now() - started) / 1000,
        })}\n`,
      );
    } finally {
      pipeline.dispose();
    }
  },
};
