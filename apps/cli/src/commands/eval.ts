import { loadMnist } from '@tfjs-diffusion/data';
import { BACKEND_OPTION } from '../backend-option.js';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { classifierStatistics, compareToReference, loadEvaluationClassifier } from '@tfjs-diffusion/evaluation/node';
import {
  DEFAULT_DENOISER,
  DEFAULT_EVALUATION_CLASSIFIER,
  DEFAULT_NOISY_CLASSIFIER,
  loadDenoiser,
  loadNoisyClassifier,
  requireFile,
} from '../checkpoint/load-model.js';
import { activateImageBackend } from '../mnist/activate.js';
import { drawImages } from '../mnist/sampling-pool.js';
import { SAMPLING_OPTIONS, SAMPLING_USAGE, guidedModel, samplingSettings } from '../mnist/sampling.js';
import { choiceOption, integerOption, seedOption, stringOption } from '../options.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: "FID, class accuracy and Inception-style score of samples, in the evaluation classifier's feature space",
  usage: [
    'usage: tfjs-diffusion eval [--checkpoint FILE] [options]',
    '',
    '  --checkpoint FILE       the denoiser (default: models/mnist-unet.safetensors of the repository)',
    '  --evaluator FILE        the clean-digit evaluation classifier whose penultimate features define FID',
    '                          (default: models/mnist-evaluation-classifier.safetensors of the repository)',
    '  --n N                   samples drawn, classes 0..9 in turn (default 500)',
    '  --reference train|test  the real digits FID compares against: n from the training split (default)',
    '                          or n held-out test digits',
    ...SAMPLING_USAGE,
    "  --weights ema|model     a training checkpoint's EMA (default) or raw model weights",
    '  --seed S                (default 0)',
    '  --backend NAME          auto | cpu | wasm | webgpu | tensorflow (default: $TFJS_DIFFUSION_BACKEND or auto)',
    '',
    'Prints ONE JSON object: fid (Fréchet distance of Gaussian fits to the features), classAccuracy (share',
    'of samples classified as the digit requested), inceptionScore exp(E KL(p(y|x) || p(y))), and the same',
    'figures for real digits (realFid: test against train, the floor at this n), and diversity: the mean',
    'feature distance between two samples of the same class, averaged over classes.',
  ].join('\n'),
  options: {
    checkpoint: { type: 'string' },
    evaluator: { type: 'string' },
    n: { type: 'string' },
    reference: { type: 'string' },
    ...SAMPLING_OPTIONS,
    weights: { type: 'string' },
    seed: { type: 'string' },
    ...BACKEND_OPTION,
  },
  async run(values, io) {
    const settings = samplingSettings(values);
    const count = integerOption(values, 'n', 500, 2, 100_000);
    const reference = choiceOption(values, 'reference', ['train', 'test'] as const, 'train');
    const seed = seedOption(values);
    const checkpoint = stringOption(values, 'checkpoint') ?? DEFAULT_DENOISER;
    if (values['checkpoint'] === undefined) requireFile(checkpoint, '--checkpoint', 'train one (tfjs-diffusion train) and pass --checkpoint FILE');
    const evaluatorPath = stringOption(values, 'evaluator') ?? DEFAULT_EVALUATION_CLASSIFIER;
    if (values['evaluator'] === undefined)
      requireFile(evaluatorPath, '--evaluator', 'train one (tfjs-diffusion train-classifier --kind evaluation) and pass --evaluator FILE');
    const classifierPath = settings.guidance === 'classifier' ? (stringOption(values, 'classifier') ?? DEFAULT_NOISY_CLASSIFIER) : undefined;
    if (classifierPath && values['classifier'] === undefined)
      requireFile(classifierPath, '--classifier', 'train one (tfjs-diffusion train-classifier) and pass --classifier FILE');
    const preferWeights = choiceOption(values, 'weights', ['ema', 'model'] as const, 'ema');
    const backend = await activateImageBackend(values, io);
    const [train, test] = [await loadMnist({ split: 'train' }), await loadMnist({ split: 'test' })];
    if (count > test.count) throw new UsageError(`--n ${count} exceeds the ${test.count} held-out digits`);
    const { model, schedule, weights } = await loadDenoiser(checkpoint, preferWeights);
    const evaluator = await loadEvaluationClassifier(evaluatorPath);
    const noisy = classifierPath ? await loadNoisyClassifier(classifierPath) : undefined;
    try {
      const numClasses = model.config.numClasses;
      const { imageSize, inChannels } = model.config;
      if (imageSize !== evaluator.config.imageSize || inChannels !== evaluator.config.inChannels) {
        throw new UsageError(
          `the denoiser makes ${imageSize}x${imageSize}x${inChannels} images but ${evaluatorPath} classifies ${evaluator.config.imageSize}x${evaluator.config.imageSize}x${evaluator.config.inChannels}`,
        );
      }
      const labels = Int32Array.from({ length: count }, (_, index) => (numClasses === null ? 0 : index % numClasses));
      const started = performance.now();
      const samples = await drawImages({
        files: { checkpoint, weights: preferWeights, backend: backend.active, ...(classifierPath ? { classifier: classifierPath } : {}) },
        model: guidedModel(model, settings, noisy?.classifier),
        schedule,
        settings,
        labels,
        dataShape: [imageSize, imageSize, inChannels],
        seed,
        onBatch: (done, total) => io.stderr(`sampled ${done}/${total} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`),
      });
      const samplingSeconds = (performance.now() - started) / 1000;
      const shape = [imageSize, imageSize, inChannels] as const;
      const imageValues = imageSize * imageSize * inChannels;
      const generated = await classifierStatistics(evaluator, samples, shape);
      const heldOut = await classifierStatistics(evaluator, test.images.subarray(0, count * imageValues), shape);
      const training = await classifierStatistics(evaluator, train.images.subarray(0, count * imageValues), shape);
      const generatedMetrics = compareToReference(generated, reference === 'test' ? heldOut : training, numClasses === null ? null : labels);
      const realMetrics = compareToReference(heldOut, training, test.labels.subarray(0, count));
      io.stdout(
        `${JSON.stringify({
          checkpoint,
          weights,
          evaluator: evaluatorPath,
          n: count,
          reference: `${reference} (${count} real digits)`,
          sampler: settings.sampler,
          steps: settings.steps,
          eta: settings.eta,
          karras: settings.karras,
          guidance: settings.guidance,
          scale: settings.scale,
          seed,
          ...generatedMetrics,
          real: {
            fidTestVsTrain: realMetrics.fid,
            classAccuracy: realMetrics.classAccuracy,
            inceptionScore: realMetrics.inceptionScore,
            diversity: realMetrics.diversity,
          },
          samplingSeconds,
        })}\n`,
      );
    } finally {
      model.dispose();
      evaluator.dispose();
      noisy?.classifier.dispose();
    }
  },
};
