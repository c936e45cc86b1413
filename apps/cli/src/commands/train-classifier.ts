import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { checkpointFileName, saveModelFile, type HostTensor, type ModelFileMetadataInput } from '@tfjs-diffusion/checkpoints/node';
import { createNoiseAwareClassifier, type NoiseAwareClassifierConfig } from '@tfjs-diffusion/networks';
import { BACKEND_OPTION } from '../backend-option.js';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { activateImageBackend } from '../mnist/activate.js';
import { commandLine } from '../mnist/command-line.js';
import { loadDataset } from '../mnist/datasets.js';
import { DEFAULT_EVALUATION_CLASSIFIER_CONFIG, createEvaluationClassifier } from '@tfjs-diffusion/evaluation';
import { createProgress } from '../mnist/progress.js';
import { classifierAccuracy, scheduleFromSpec, trainClassifier, type ScheduleSpec, type TrainableClassifier } from '@tfjs-diffusion/training/node';
import { saveLossPlot } from '../mnist/train-loss-plot.js';
import { choiceOption, integerOption, numberOption, seedOption, stringOption } from '../options.js';
import type * as tf from '@tensorflow/tfjs-core';

/** The noise-aware classifier trained by default: the U-Net encoder of mnist-tiny with an average-pool head. */
export const NOISY_CLASSIFIER_CONFIG: NoiseAwareClassifierConfig & { readonly type: 'classifier' } = {
  type: 'classifier',
  imageSize: 28,
  inChannels: 1,
  modelChannels: 32,
  channelMultipliers: [1, 2, 2],
  numResBlocks: 1,
  attentionResolutions: [],
  dropout: 0,
  groupNormGroups: 8,
  numClasses: 10,
  pool: 'adaptive',
  seed: 0,
};

/** The model-file description of a classifier (docs/model-format.md): no prediction or variance, no null class; a schedule only for the noisy one. */
function classifierDescription(
  config: Record<string, unknown>,
  schedule: ScheduleSpec | null,
  classNames: readonly string[] | undefined,
): ModelFileMetadataInput {
  const numClasses = config['numClasses'] as number;
  return {
    network: config as ModelFileMetadataInput['network'],
    schedule,
    prediction: null,
    variance: null,
    conditioning: { numClasses, nullClass: null, ...(classNames?.length === numClasses ? { classNames: [...classNames] } : {}) },
    data: { shape: [config['imageSize'] as number, config['imageSize'] as number, config['inChannels'] as number], range: [-1, 1] },
    weights: 'raw',
  };
}

async function hostParameters(parameters: ReadonlyMap<string, tf.Variable>): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>();
  for (const [name, variable] of parameters) out.set(name, { shape: [...variable.shape], data: (await variable.data()) as Float32Array });
  return out;
}

export const trainClassifierCommand: Command = {
  name: 'train-classifier',
  summary: 'train the noise-aware classifier (classifier guidance) or the clean evaluation classifier (FID features)',
  usage: [
    'usage: tfjs-diffusion train-classifier --out FILE.safetensors [options]',
    '',
    '  --kind noisy|evaluation  noisy (default): p(y | x_t, t) on noised digits, for --guidance classifier;',
    '                           evaluation: a small CNN on clean digits, whose features eval uses for FID',
    '  --clean                  the same as --kind evaluation',
    '  --dataset NAME           mnist | fashion-mnist (default mnist)',
    "  --schedule KIND          linear | cosine: the denoiser's schedule, for noisy (default cosine)",
    '  --timesteps T            (default 1000)',
    '  --config FILE.json       a classifier config (noisy: networks NoiseAwareClassifierConfig) instead of the default',
    '  --steps N                (default 1500 noisy, 600 evaluation)',
    '  --batch-size B           (default 32 noisy, 64 evaluation)',
    '  --learning-rate LR       (default 0.0005 noisy, 0.001 evaluation)',
    '  --warmup N               (default 50)',
    '  --grad-clip C            (default 1)',
    '  --checkpoint-dir DIR     also write step-NNNNNN.safetensors (F32) every --checkpoint-every steps and loss.png',
    '  --checkpoint-every N     (default 500)',
    '  --out FILE.safetensors   the trained classifier, F16, with its config (and schedule) in the metadata',
    '  --test-n N               held-out digits scored for the accuracy report (default all)',
    '  --seed S                 (default 0)',
    '  --backend NAME           auto | cpu | wasm | webgpu | tensorflow (default: $TFJS_DIFFUSION_BACKEND or auto)',
    '  --json                   print a JSON summary (with held-out accuracy)',
  ].join('\n'),
  options: {
    kind: { type: 'string' },
    clean: { type: 'boolean' },
    dataset: { type: 'string' },
    schedule: { type: 'string' },
    timesteps: { type: 'string' },
    config: { type: 'string' },
    steps: { type: 'string' },
    'batch-size': { type: 'string' },
    'learning-rate': { type: 'string' },
    warmup: { type: 'string' },
    'grad-clip': { type: 'string' },
    'checkpoint-dir': { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'log-every': { type: 'string' },
    out: { type: 'string' },
    'test-n': { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean' },
    ...BACKEND_OPTION,
  },
  async run(values, io) {
    const out = stringOption(values, 'out');
    if (!out) throw new UsageError('--out FILE.safetensors is required');
    if (values['clean'] && values['kind'] !== undefined && values['kind'] !== 'evaluation') throw new UsageError('--clean means --kind evaluation');
    const kind = values['clean'] ? 'evaluation' : choiceOption(values, 'kind', ['noisy', 'evaluation'] as const, 'noisy');
    const noisy = kind === 'noisy';
    if (!noisy && (values['schedule'] !== undefined || values['timesteps'] !== undefined))
      throw new UsageError('--schedule and --timesteps apply to --kind noisy only');
    const datasetName = choiceOption(values, 'dataset', ['mnist', 'fashion-mnist'] as const, 'mnist');
    const scheduleSpec: ScheduleSpec = {
      kind: choiceOption(values, 'schedule', ['linear', 'cosine'] as const, 'cosine'),
      timesteps: integerOption(values, 'timesteps', 1000, 2, 100_000),
    };
    const steps = integerOption(values, 'steps', noisy ? 1500 : 600, 0);
    const batchSize = integerOption(values, 'batch-size', noisy ? 32 : 64, 1, 4096);
    const learningRate = numberOption(values, 'learning-rate', noisy ? 5e-4 : 1e-3, 1e-8, 1);
    const warmup = integerOption(values, 'warmup', 50, 0);
    const gradClip = numberOption(values, 'grad-clip', 1, 0);
    const checkpointDirectory = stringOption(values, 'checkpoint-dir');
    const checkpointEvery = integerOption(values, 'checkpoint-every', 500, 1);
    const logEvery = integerOption(values, 'log-every', 50, 1);
    const testCount = integerOption(values, 'test-n', Number.MAX_SAFE_INTEGER, 1);
    const seed = seedOption(values);
    let config: Record<string, unknown> = noisy ? { ...NOISY_CLASSIFIER_CONFIG, seed } : { ...DEFAULT_EVALUATION_CLASSIFIER_CONFIG, seed };
    const configFile = stringOption(values, 'config');
    if (configFile) {
      try {
        config = {
          type: noisy ? 'classifier' : 'evaluation-classifier',
          ...(JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>),
        };
      } catch (error) {
        throw new UsageError(`--config: cannot read ${configFile} as JSON (${(error as Error).message})`);
      }
    }
    await activateImageBackend(values, io);
    const [train, test] = [await loadDataset(datasetName, { split: 'train' }), await loadDataset(datasetName, { split: 'test' })];
    const schedule = noisy ? scheduleFromSpec(scheduleSpec) : undefined;
    const network = noisy ? createNoiseAwareClassifier(config) : createEvaluationClassifier(config as never);
    const classifier = network as unknown as TrainableClassifier;
    try {
      io.stderr(
        `train-classifier: ${kind} on ${datasetName} (${train.count} images)${noisy ? `, ${scheduleSpec.kind} schedule T=${scheduleSpec.timesteps}` : ', clean digits'}\n`,
      );
      const progress = createProgress(io.stderr, io.interactive, logEvery);
      const started = performance.now();
      const history: number[] = [];
      const description = classifierDescription(network.config as unknown as Record<string, unknown>, noisy ? scheduleSpec : null, train.classNames);
      const extra = { kind, dataset: datasetName, command: commandLine('train-classifier', values) };
      await trainClassifier({
        classifier,
        dataset: train,
        mode: noisy ? 'noisy' : 'clean',
        ...(schedule ? { schedule } : {}),
        steps,
        batchSize,
        learningRate,
        warmup,
        gradClip,
        seed,
        onStep: async (step, loss) => {
          history.push(loss);
          progress.update({ step, totalSteps: steps, loss, stepsPerSecond: step / ((performance.now() - started) / 1000) });
          if (checkpointDirectory && (step % checkpointEvery === 0 || step === steps)) {
            const path = `${checkpointDirectory}/${checkpointFileName(step)}`;
            await saveModelFile(path, {
              metadata: description,
              tensors: await hostParameters(network.parameters),
              extra: { ...extra, step: String(step) },
            });
            if (history.length > 1) saveLossPlot(history, `${checkpointDirectory}/loss.png`);
            progress.break();
            io.stderr(`checkpoint: ${path}\n`);
          }
        },
      });
      progress.break();
      const seconds = (performance.now() - started) / 1000;
      // held-out accuracy: clean, and for the noisy classifier at a few noise levels
      const accuracy: Record<string, number> = { clean: await classifierAccuracy(classifier, test, { count: testCount }) };
      if (schedule) {
        const T = schedule.timesteps.length;
        for (const index of [Math.floor(T / 4), Math.floor(T / 2), Math.floor((3 * T) / 4)]) {
          accuracy[`t=${schedule.timesteps[index]}`] = await classifierAccuracy(classifier, test, { count: testCount, schedule, index, seed });
        }
      }
      await mkdir(dirname(out), { recursive: true });
      await saveModelFile(out, {
        metadata: description,
        tensors: await hostParameters(network.parameters),
        extra: { ...extra, steps: String(steps), testAccuracy: JSON.stringify(accuracy) },
        dtype: 'F16',
      });
      io.stderr(`wrote ${out}; held-out accuracy ${JSON.stringify(accuracy)}\n`);
      if (values['json']) {
        const tail = history.slice(-100);
        io.stdout(
          `${JSON.stringify({ kind, out, steps, finalLoss: tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : null, testAccuracy: accuracy, seconds })}\n`,
        );
      }
    } finally {
      network.dispose();
    }
  },
};
