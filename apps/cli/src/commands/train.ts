import { DiffusionError } from '@tfjs-diffusion/core';
import { DATASET_FORMS, loadDataset, parseDatasetSpec } from '@tfjs-diffusion/data';
import { OBJECTIVE_NAMES, type ObjectiveName } from '@tfjs-diffusion/objectives';
import {
  TRAINING_NETWORK_PRESETS,
  findResume,
  runTraining,
  type LoadedTrainingCheckpoint,
  type TrainSettingPath,
  type TrainSettings,
} from '@tfjs-diffusion/training/node';
import { join } from 'node:path';
import { BACKEND_OPTION, activateBackend } from '../backend-option.js';
import { UsageError } from '../cli-error.js';
import type { Command, OptionValues } from '../command.js';
import { commandLine } from '../command-line.js';
import { jsonFileOption } from '../json-option.js';
import { saveLossPlot } from '../loss-plot.js';
import { choiceOption, integerOption, numberOption, seedOption, stringOption } from '../options.js';
import { createProgress } from '../progress.js';
import { optionsFromUsage } from '../usage-options.js';

const SCHEDULE_KINDS = ['linear', 'cosine'] as const;

/** Options that are part of the stored settings: on --resume they must agree with the checkpoint. */
const SETTING_OPTIONS: Readonly<Record<string, TrainSettingPath>> = {
  dataset: 'dataset',
  'image-size': 'imageSize',
  objective: 'objective',
  schedule: 'schedule.kind',
  timesteps: 'schedule.timesteps',
  'batch-size': 'batchSize',
  'learning-rate': 'learningRate',
  warmup: 'warmup',
  'grad-clip': 'gradClip',
  'ema-decay': 'emaDecay',
  'p-uncond': 'pUncond',
  'importance-sampling': 'importanceSampling',
  seed: 'seed',
};

const NETWORK_PRESET_NAMES = Object.keys(TRAINING_NETWORK_PRESETS);

/** The settings the options describe (defaults filled in). */
async function settingsFromOptions(values: OptionValues): Promise<TrainSettings> {
  const dataset = stringOption(values, 'dataset') ?? 'mnist';
  const spec = parseDatasetSpec(dataset);
  if (!spec) throw new UsageError(`--dataset must be one of ${DATASET_FORMS}, got '${dataset}'`);
  const imageSize = values['image-size'] === undefined ? null : integerOption(values, 'image-size', 28, 4, 1024);
  if (spec.kind === 'folder' && imageSize === null) throw new UsageError('--image-size is required with --dataset folder:PATH');
  if (spec.kind !== 'folder' && imageSize !== null && imageSize !== 28)
    throw new UsageError(`--image-size must be 28 for ${dataset} (or leave it out)`);
  const seed = seedOption(values);
  if (values['network'] !== undefined && values['config'] !== undefined)
    throw new UsageError('give either --network PRESET or --config FILE.json, not both');
  const configFile = await jsonFileOption(values, 'config');
  const preset = TRAINING_NETWORK_PRESETS[choiceOption(values, 'network', NETWORK_PRESET_NAMES, 'mnist-tiny')];
  const network: Record<string, unknown> = configFile ? { type: 'unet', ...configFile } : { ...preset, seed };
  if (imageSize !== null && values['config'] === undefined) network['imageSize'] = imageSize;
  const emaDecay = numberOption(values, 'ema-decay', 0.999, 0, 0.999999);
  return {
    dataset,
    imageSize,
    network,
    objective: choiceOption(values, 'objective', OBJECTIVE_NAMES, 'hybrid' as ObjectiveName),
    schedule: {
      kind: choiceOption(values, 'schedule', SCHEDULE_KINDS, 'cosine'),
      timesteps: integerOption(values, 'timesteps', 1000, 2, 100_000),
    },
    batchSize: integerOption(values, 'batch-size', 32, 1, 4096),
    learningRate: numberOption(values, 'learning-rate', 2e-4, 1e-8, 1),
    warmup: integerOption(values, 'warmup', 100, 0),
    gradClip: numberOption(values, 'grad-clip', 1, 0),
    emaDecay,
    emaWarmup: true,
    pUncond: numberOption(values, 'p-uncond', 0.1, 0, 1),
    importanceSampling: values['importance-sampling'] === true,
    seed,
  };
}

const USAGE = [
  'usage: tfjs-diffusion train --checkpoint-dir DIR [options]',
  '',
  `  --dataset NAME          ${DATASET_FORMS} (default mnist)`,
  '  --image-size S          image side for folder datasets (images are resized and centre-cropped)',
  '  --skip-bad-images       folder datasets: skip unreadable, truncated or oversized images with a warning each',
  `  --network PRESET        ${NETWORK_PRESET_NAMES.join(' | ')} (default mnist-tiny)`,
  '  --config FILE.json      a U-Net config instead of a preset (networks UNetConfig JSON)',
  `  --objective NAME        ${OBJECTIVE_NAMES.join(' | ')} (default hybrid; needs learned-range variance)`,
  '  --schedule KIND         linear | cosine (default cosine)',
  '  --timesteps T           diffusion steps T (default 1000)',
  '  --steps N               training steps to run now; after --resume, on top of the saved step (default 1000)',
  '  --batch-size B          (default 32)',
  '  --learning-rate LR      Adam learning rate (default 0.0002)',
  '  --warmup N              linear learning-rate warm-up steps (default 100)',
  '  --grad-clip C           global gradient-norm clip, 0 = off (default 1)',
  '  --ema-decay D           EMA of the parameters, 0 = off (default 0.999)',
  '  --p-uncond P            classifier-free label dropout probability (default 0.1)',
  '  --importance-sampling   importance-sampled timesteps (Improved DDPM; for --objective kl)',
  '  --checkpoint-dir DIR    where step-NNNNNN.safetensors, loss.png and ema.safetensors go (required)',
  '  --checkpoint-every N    (default 200)',
  '  --keep K                checkpoints kept (default 3)',
  '  --resume                continue exactly from the newest checkpoint in --checkpoint-dir;',
  '                          its settings are used (options that disagree with them are errors)',
  '  --ship-weights ema|model what ema.safetensors holds: the EMA (default) or the raw parameters',
  '  --log-every N           plain progress line every N steps when stderr is not a terminal (default 50)',
  '  --seed S                (default 0)',
  '  --backend NAME          auto | cpu | wasm | webgpu | tensorflow (default: $TFJS_DIFFUSION_BACKEND or auto)',
  '  --json                  print a JSON summary at the end',
].join('\n');

export const trainCommand: Command = {
  name: 'train',
  summary: 'train the U-Net denoiser on MNIST, Fashion-MNIST or an image folder, with checkpoints and exact resume',
  usage: USAGE,
  options: { ...optionsFromUsage(USAGE), ...BACKEND_OPTION },
  async run(values, io) {
    const checkpointDirectory = stringOption(values, 'checkpoint-dir');
    if (!checkpointDirectory) throw new UsageError('--checkpoint-dir DIR is required');
    const steps = integerOption(values, 'steps', 1000, 0);
    const checkpointEvery = integerOption(values, 'checkpoint-every', 200, 1);
    const keep = integerOption(values, 'keep', 3, 1);
    const logEvery = integerOption(values, 'log-every', 50, 1);
    const requested = await settingsFromOptions(values);
    let settings = requested;
    let resume: LoadedTrainingCheckpoint | undefined;
    if (values['resume']) {
      if (values['network'] !== undefined || values['config'] !== undefined) {
        throw new UsageError('--network and --config cannot be combined with --resume: the network comes from the checkpoint');
      }
      const given = Object.fromEntries(Object.entries(SETTING_OPTIONS).filter(([name]) => values[name] !== undefined));
      const found = await findResume(checkpointDirectory, requested, given).catch((error: Error) => {
        throw new DiffusionError('invalid-argument', `--resume: ${error.message}`);
      });
      for (const skipped of found.skipped) io.stderr(`--resume: skipping ${skipped.path}: ${skipped.reason}\n`);
      const [conflict] = found.conflicts;
      if (conflict) {
        const { name, stored } = conflict;
        throw new UsageError(
          `--${name} ${String(values[name])} differs from ${JSON.stringify(stored)} in ${found.checkpoint.path}; leave it out to resume`,
        );
      }
      ({ checkpoint: resume, settings } = found);
    }
    const resumeFrom = resume?.path;
    await activateBackend(values, io);
    const dataset = await loadDataset(settings.dataset, {
      split: 'train',
      ...(settings.imageSize !== null ? { imageSize: settings.imageSize } : {}),
      ...(values['skip-bad-images'] === true ? { skipBadImages: true, onWarning: (line: string) => io.stderr(`${line}\n`) } : {}),
    });
    io.stderr(
      `train: ${settings.dataset} (${dataset.count} images), objective ${settings.objective}, ${settings.schedule.kind} schedule T=${settings.schedule.timesteps}` +
        (resumeFrom ? `, resuming from ${resumeFrom}` : '') +
        '\n',
    );
    const progress = createProgress(io.stderr, io.interactive, logEvery);
    const lossPlot = join(checkpointDirectory, 'loss.png');
    const result = await runTraining({
      settings,
      dataset,
      steps,
      checkpointDirectory,
      checkpointEvery,
      keep,
      ...(resume ? { resume } : {}),
      metadata: { command: commandLine('train', values) },
      shipWeights: choiceOption(values, 'ship-weights', ['ema', 'model'] as const, 'ema'),
      onStep: ({ step, loss, skipped }, { startStep, endStep }) =>
        progress.update({ step, totalSteps: endStep, loss, startStep, ...(skipped ? { extra: 'non-finite, skipped' } : {}) }),
      onCheckpoint: ({ path, lossHistory }) => {
        if (lossHistory.length > 1) saveLossPlot(lossHistory, lossPlot);
        progress.say(`checkpoint: ${path}`);
      },
      onNotice: (message) => progress.say(`train: ${message}`),
    });
    const seconds = progress.elapsed();
    progress.say(
      `wrote ${result.shipped} (${settings.emaDecay > 0 && values['ship-weights'] !== 'model' ? 'EMA' : 'raw'} weights, F16) and ${lossPlot}`,
    );
    const { startStep, step, finalLoss, skippedSteps, checkpoint, shipped } = result;
    const stepsPerSecond = (step - startStep) / seconds;
    const summary = { startStep, step, finalLoss, skippedSteps, seconds, stepsPerSecond, checkpoint, shipped, lossPlot };
    if (values['json']) io.stdout(`${JSON.stringify(summary)}\n`);
  },
};
