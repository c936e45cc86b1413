import { TOY_DATASETS, type ToyDatasetName } from '@tfjs-diffusion/data';
import { runToyDiffusion } from '@tfjs-diffusion/training/node';
import { BACKEND_OPTION, activateBackend } from '../backend-option.js';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { choiceOption, integerOption, numberOption, seedOption, stringOption } from '../options.js';
import { createProgress } from '../progress.js';
import { scatterPlot } from '@tfjs-diffusion/plots/node';
import { optionsFromUsage } from '../usage-options.js';

const USAGE = [
  'usage: tfjs-diffusion toy --dataset NAME --out FILE.png|svg [options]',
  '',
  `  --dataset NAME        ${TOY_DATASETS.join(' | ')}`,
  '  --train-steps N       training steps (default 6000)',
  '  --batch-size N        (default 256)',
  '  --learning-rate LR    (default 0.003)',
  '  --sampler ddpm|ddim   (default ddim)',
  '  --steps S             sampling steps, respaced from T (default 50)',
  '  --eta E               DDIM eta in [0, 1] (default 0)',
  '  --samples N           number of samples drawn (default 2000)',
  '  --timesteps T         training timesteps, linear schedule (default 1000)',
  '  --seed S              (default 0)',
  '  --backend NAME        auto | cpu | wasm | webgpu | tensorflow (default: $TFJS_DIFFUSION_BACKEND or auto)',
  '  --json                print a JSON summary (loss, and mode statistics for eight-gaussians)',
  '  --out FILE.png|svg    scatter plot: data in grey, samples in red, with axes and a legend',
].join('\n');

export const toyCommand: Command = {
  name: 'toy',
  summary: 'train the MLP denoiser on a 2-D toy distribution and plot samples over the data',
  usage: USAGE,
  options: { ...optionsFromUsage(USAGE), ...BACKEND_OPTION },
  async run(values, io) {
    const datasetName = stringOption(values, 'dataset');
    if (!datasetName) throw new UsageError(`--dataset is required: ${TOY_DATASETS.join(', ')}`);
    const dataset = choiceOption(values, 'dataset', TOY_DATASETS, datasetName as ToyDatasetName);
    const out = stringOption(values, 'out');
    if (!out && !values['json']) throw new UsageError('--out FILE.png is required (or --json)');
    const timesteps = integerOption(values, 'timesteps', 1000, 2, 100_000);
    const options = {
      dataset,
      trainSteps: integerOption(values, 'train-steps', 6000, 0),
      batchSize: integerOption(values, 'batch-size', 256),
      learningRate: numberOption(values, 'learning-rate', 3e-3, 1e-8, 1),
      sampler: choiceOption(values, 'sampler', ['ddpm', 'ddim'] as const, 'ddim'),
      steps: integerOption(values, 'steps', 50, 1, timesteps),
      eta: numberOption(values, 'eta', 0, 0, 1),
      samples: integerOption(values, 'samples', 2000),
      timesteps,
      seed: seedOption(values),
    };
    await activateBackend(values, io);
    const progress = createProgress(io.stderr, io.interactive, Math.max(1, Math.floor(options.trainSteps / 10)));
    const run = await runToyDiffusion({
      ...options,
      onTrainStep: ({ step, loss }) => progress.update({ step, totalSteps: options.trainSteps, loss }),
    });
    progress.break();
    if (out) {
      scatterPlot(
        [
          { points: run.data, color: [170, 170, 170], radius: 1.5, name: 'training data' },
          { points: run.samples, color: [214, 39, 40], radius: 1.5, alpha: 0.8, name: 'samples' },
        ],
        {
          title: `${dataset}: ${options.samples} samples (${options.sampler}, ${options.steps} steps) after ${options.trainSteps} training steps`,
          xTitle: 'x1',
          yTitle: 'x2',
        },
      ).save(out);
      io.stderr(`wrote ${out}: ${options.samples} samples (red) over the data (grey)\n`);
    }
    const { trainSteps, sampler, steps } = options;
    const summary = { dataset, trainSteps, sampler, steps, finalLoss: run.finalLoss, seconds: progress.elapsed(), ...run.statistics };
    if (values['json']) io.stdout(`${JSON.stringify(summary)}\n`);
    run.model.dispose();
  },
};
