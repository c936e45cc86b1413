import { createNoiseAwareClassifier } from '@tfjs-diffusion/networks';
import { loadDataset } from '@tfjs-diffusion/data';
import { DEFAULT_EVALUATION_CLASSIFIER_CONFIG, createEvaluationClassifier } from '@tfjs-diffusion/evaluation';
import { NOISY_CLASSIFIER_CONFIG, runClassifierTraining, type ScheduleSpec } from '@tfjs-diffusion/training/node';
import { BACKEND_OPTION, activateBackend } from '../backend-option.js';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { commandLine } from '../command-line.js';
import { jsonFileOption } from '../json-option.js';
import { createProgress } from '../progress.js';
import { saveLossPlot } from '../loss-plot.js';
import { choiceOption, integerOption, numberOption, seedOption, stringOption } from '../options.js';
import { optionsFromUsage } from '../usage-options.js';

const USAGE = [
  'usage: tfjs-diffusion train-classifier --out FILE.safetensors [options]',
  '',
  '  --kind noisy|evaluation  noisy (default): p(y | x_t, t) on noised digits, for --guidance classifier;',
  '                           evaluation: a small CNN on clean digits, whose features eval uses for FID',
  '  --clean                  the same as --kind evaluation',
  '  --dataset NAME           mnist | fashion-mnist (default mnist)',
  "  --schedule KIND          linear | cosine: the denoiser's schedule, for noisy (default cosine)",
  '  --timesteps T            (default 1000)',
  '  --config FILE.json       a classifier config (noisy: networks NoiseAwareClassifierConfig) instead of the default',
  '  --steps N                (default 6000 noisy, 600 evaluation)',
  '  --batch-size B           (default 64)',
  '  --learning-rate LR       (default 0.001)',
  '  --warmup N               (default 200 noisy, 50 evaluation)',
  '  --grad-clip C            (default 1)',
  '  --checkpoint-dir DIR     also write step-NNNNNN.safetensors (F32) every --checkpoint-every steps and loss.png',
  '  --checkpoint-every N     (default 500)',
  '  --keep K                 checkpoints kept (default: all)',
  '  --out FILE.safetensors   the trained classifier, F16, with its config (and schedule) in the metadata',
  '  --test-n N               held-out digits scored for the accuracy report (default all)',
  '  --log-every N            plain progress line every N steps when stderr is not a terminal (default 50)',
  '  --seed S                 (default 0)',
  '  --backend NAME           auto | cpu | wasm | webgpu | tensorflow (default: $TFJS_DIFFUSION_BACKEND or auto)',
  '  --json                   print a JSON summary (with held-out accuracy)',
].join('\n');

export const trainClassifierCommand: Command = {
  name: 'train-classifier',
  summary: 'train the noise-aware classifier (classifier guidance) or the clean evaluation classifier (FID features)',
  usage: USAGE,
  options: { ...optionsFromUsage(USAGE), ...BACKEND_OPTION },
  async run(values, io) {
    const out = stringOption(values, 'out');
    if (!out) throw new UsageError('--out FILE.safetensors is required');
    if (values['clean'] && values['kind'] !== undefined && values['kind'] !== 'evaluation') throw new UsageError('--clean means --kind evaluation');
    const kind = values['clean'] ? 'evaluation' : choiceOption(values, 'kind', ['noisy', 'evaluation'] as const, 'noisy');
    const noisy = kind === 'noisy';
    if (!noisy && (values['schedule'] !== undefined || values['timesteps'] !== undefined))
      throw new UsageError('--schedule and --timesteps apply to --kind noisy only');
    const datasetName = choiceOption(values, 'dataset', ['mnist', 'fashion-mnist'] as const, 'mnist');
    const schedule: ScheduleSpec = {
      kind: choiceOption(values, 'schedule', ['linear', 'cosine'] as const, 'cosine'),
      timesteps: integerOption(values, 'timesteps', 1000, 2, 100_000),
    };
    const steps = integerOption(values, 'steps', noisy ? 6000 : 600, 0);
    const checkpointDirectory = stringOption(values, 'checkpoint-dir');
    const seed = seedOption(values);
    const training = {
      steps,
      batchSize: integerOption(values, 'batch-size', 64, 1, 4096),
      learningRate: numberOption(values, 'learning-rate', 1e-3, 1e-8, 1),
      warmup: integerOption(values, 'warmup', noisy ? 200 : 50, 0),
      gradClip: numberOption(values, 'grad-clip', 1, 0),
      seed,
      ...(checkpointDirectory ? { checkpointDirectory, checkpointEvery: integerOption(values, 'checkpoint-every', 500, 1) } : {}),
      ...(values['keep'] !== undefined ? { keep: integerOption(values, 'keep', 1, 1) } : {}),
      ...(values['test-n'] !== undefined ? { testCount: integerOption(values, 'test-n', 1, 1) } : {}),
    };
    const configFile = await jsonFileOption(values, 'config');
    const type = noisy ? 'classifier' : 'evaluation-classifier';
    const config = configFile ? { type, ...configFile } : { ...(noisy ? NOISY_CLASSIFIER_CONFIG : DEFAULT_EVALUATION_CLASSIFIER_CONFIG), seed };
    const logEvery = integerOption(values, 'log-every', 50, 1);
    await activateBackend(values, io);
    const [train, test] = [await loadDataset(datasetName, { split: 'train' }), await loadDataset(datasetName, { split: 'test' })];
    const classifier = noisy ? createNoiseAwareClassifier(config) : createEvaluationClassifier(config as never);
    try {
      io.stderr(
        `train-classifier: ${kind} on ${datasetName} (${train.count} images)${noisy ? `, ${schedule.kind} schedule T=${schedule.timesteps}` : ', clean digits'}\n`,
      );
      const progress = createProgress(io.stderr, io.interactive, logEvery);
      const result = await runClassifierTraining({
        classifier,
        dataset: train,
        testDataset: test,
        ...(noisy ? { schedule } : {}),
        ...training,
        out,
        metadata: { kind, dataset: datasetName, command: commandLine('train-classifier', values) },
        onStep: (step, loss) => progress.update({ step, totalSteps: steps, loss }),
        onCheckpoint: ({ path, lossHistory }) => {
          if (lossHistory.length > 1) saveLossPlot(lossHistory, `${checkpointDirectory}/loss.png`);
          progress.say(`checkpoint: ${path}`);
        },
        onNotice: (message) => progress.say(`train-classifier: ${message}`),
      });
      const seconds = progress.elapsed();
      progress.say(`wrote ${out}; held-out accuracy ${JSON.stringify(result.accuracy)}`);
      if (values['json']) io.stdout(`${JSON.stringify({ kind, out, steps, finalLoss: result.finalLoss, testAccuracy: result.accuracy, seconds })}\n`);
    } finally {
      classifier.dispose();
    }
  },
};
