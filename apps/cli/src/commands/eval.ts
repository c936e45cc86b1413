import { loadMnist } from '@tfjs-diffusion/data';
import { classifierStatistics, compareToReference, loadEvaluationClassifier } from '@tfjs-diffusion/evaluation/node';
import { generateInParallel } from '@tfjs-diffusion/parallel';
import { loadPipeline } from '@tfjs-diffusion/pipelines/node';
import { BACKEND_OPTION, activateBackend } from '../backend-option.js';
import { DEFAULT_EVALUATION_CLASSIFIER, requireFile } from '../checkpoint/default-models.js';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { SAMPLING_OPTIONS, SAMPLING_USAGE, generateSettings, samplingFiles, samplingSettings } from '../sampling-options.js';
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
    const files = samplingFiles(values, settings);
    const checkpoint = files.model;
    const evaluatorPath = stringOption(values, 'evaluator') ?? DEFAULT_EVALUATION_CLASSIFIER;
    if (values['evaluator'] === undefined)
      requireFile(evaluatorPath, '--evaluator', 'train one (tfjs-diffusion train-classifier --kind evaluation) and pass --evaluator FILE');
    const backend = await activateBackend(values, io);
    const [train, test] = [await loadMnist({ split: 'train' }), await loadMnist({ split: 'test' })];
    if (count > test.count) throw new UsageError(`--n ${count} exceeds the ${test.count} held-out digits`);
    const pipeline = await loadPipeline(checkpoint, { weights: files.weights, classifier: files.classifier });
    const evaluator = await loadEvaluationClassifier(evaluatorPath);
    try {
      const numClasses = pipeline.conditioning?.numClasses ?? null;
      const shape = pipeline.dataShape;
      const [imageSize, , inChannels] = shape;
      if (imageSize !== evaluator.config.imageSize || inChannels !== evaluator.config.inChannels) {
        throw new UsageError(
          `the denoiser makes ${imageSize}x${imageSize}x${inChannels} images but ${evaluatorPath} classifies ${evaluator.config.imageSize}x${evaluator.config.imageSize}x${evaluator.config.inChannels}`,
        );
      }
      const labels = numClasses === null ? null : Array.from({ length: count }, (_, index) => index % numClasses);
      const started = performance.now();
      const images = await generateInParallel(pipeline, {
        ...generateSettings(settings),
        ...(labels === null ? { count } : { labels }),
        seed,
        files,
        backend: backend.active,
        workers: settings.workers,
        onProgress: (done, total) => io.stderr(`sampled ${done}/${total} (${((performance.now() - started) / 1000).toFixed(0)} s)\n`),
      });
      const samples = (await images.data()) as Float32Array;
      images.dispose();
      const samplingSeconds = (performance.now() - started) / 1000;
      const imageValues = shape[0] * shape[1] * shape[2];
      const generated = await classifierStatistics(evaluator, samples, shape);
      const heldOut = await classifierStatistics(evaluator, test.images.subarray(0, count * imageValues), shape);
      const training = await classifierStatistics(evaluator, train.images.subarray(0, count * imageValues), shape);
      const generatedMetrics = compareToReference(generated, reference === 'test' ? heldOut : training, labels);
      const realMetrics = compareToReference(heldOut, training, test.labels.subarray(0, count));
      io.stdout(
        `${JSON.stringify({
          checkpoint,
          weights: pipeline.weights === 'ema' ? 'ema' : 'model',
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
      pipeline.dispose();
      evaluator.dispose();
    }
  },
};
