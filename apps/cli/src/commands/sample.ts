import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { decodeImage } from '@tfjs-diffusion/data';
import { generateInParallel } from '@tfjs-diffusion/parallel';
import { loadPipeline, lowResolutionShape, lowResolutionTiles, sampleDenoisingChain, tileImages, writePng } from '@tfjs-diffusion/pipelines/node';
import { BACKEND_OPTION, activateBackend } from '../backend-option.js';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { SAMPLING_OPTIONS, SAMPLING_USAGE, generateSettings, parseClasses, samplingFiles, samplingSettings } from '../sampling-options.js';
import { integerOption, seedOption, stringOption } from '../options.js';

export const sampleCommand: Command = {
  name: 'sample',
  summary: 'sample a grid of digits (one row per class) from a trained denoiser, with optional guidance',
  usage: [
    'usage: tfjs-diffusion sample [--checkpoint FILE] [options] --out grid.png',
    '',
    '  --checkpoint FILE       a model file or a training checkpoint (its EMA weights)',
    '                          (default: models/mnist-unet.safetensors of the repository)',
    "  --model FILE            the same as --checkpoint (e.g. a file written by 'tfjs-diffusion convert')",
    '  --classes LIST          classes, one grid row each in this order, e.g. 3,1,4 (default all)',
    '  --per-class N           images per class: the grid columns (default 10)',
    "  --unconditional         draw from the model's null class (its unconditional branch); with",
    '                          --guidance classifier, the classifier steers each row to its class',
    '  --low-resolution PNG    super-resolution models: one image of the small size for every image, or a',
    '                          grid of small-size tiles without gaps, one per image, row by row (calling thread)',
    ...SAMPLING_USAGE,
    "  --weights ema|model     a training checkpoint's EMA (default) or raw model weights",
    '  --seed S                image i draws its noise from its own stream (S, i) (default 0)',
    '  --backend NAME          auto | cpu | wasm | webgpu | tensorflow (default: $TFJS_DIFFUSION_BACKEND or auto)',
    '  --out FILE.png          the grid: 28x28 cells (times --cell-scale), separated and framed by --pad black pixels',
    '  --pad P                 (default 2)',
    '  --cell-scale K          pixel magnification (default 1)',
    '  --chain FILE.png        also draw the denoising chain of one image per class: for each class a row',
    '                          of x_t and a row of predicted x0 at --chain-columns evenly spread steps',
    '  --chain-columns K       (default 10)',
    '  --json                  print a JSON summary',
  ].join('\n'),
  options: {
    checkpoint: { type: 'string' },
    model: { type: 'string' },
    classes: { type: 'string' },
    'per-class': { type: 'string' },
    unconditional: { type: 'boolean' },
    'low-resolution': { type: 'string' },
    ...SAMPLING_OPTIONS,
    weights: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    pad: { type: 'string' },
    'cell-scale': { type: 'string' },
    json: { type: 'boolean' },
    chain: { type: 'string' },
    'chain-columns': { type: 'string' },
    ...BACKEND_OPTION,
  },
  async run(values, io) {
    const out = stringOption(values, 'out');
    if (!out && !values['json']) throw new UsageError('--out FILE.png is required (or --json)');
    const settings = samplingSettings(values);
    const unconditional = values['unconditional'] === true;
    if (unconditional && settings.guidance === 'cfg')
      throw new UsageError('--unconditional with --guidance cfg has nothing to steer with; use --guidance classifier or none');
    const perClass = integerOption(values, 'per-class', 10, 1, 10_000);
    const pad = integerOption(values, 'pad', 2, 0, 1000);
    const chainPath = stringOption(values, 'chain');
    const chainColumns = integerOption(values, 'chain-columns', 10, 1, 1000);
    const cellScale = integerOption(values, 'cell-scale', 1, 1, 64);
    const seed = seedOption(values);
    const files = samplingFiles(values, settings);
    const checkpoint = files.model;
    const backend = await activateBackend(values, io);
    const pipeline = await loadPipeline(checkpoint, { weights: files.weights, classifier: files.classifier });
    try {
      const numClasses = pipeline.conditioning?.numClasses ?? null;
      if (numClasses === null && values['classes'] !== undefined)
        throw new UsageError('--classes needs a class-conditional model; this one is unconditional');
      if (numClasses === null && settings.guidance !== 'none')
        throw new UsageError(`--guidance ${settings.guidance} needs a class-conditional model`);
      if (numClasses === null && unconditional)
        throw new UsageError('--unconditional needs a class-conditional model with a null class; this one is unconditional already');
      const classes = numClasses === null ? [0] : parseClasses(stringOption(values, 'classes'), numClasses);
      const labels = classes.flatMap((label) => new Array<number>(perClass).fill(label));
      const [smallShape, lowResolutionPath] = [lowResolutionShape(pipeline), stringOption(values, 'low-resolution')];
      if ((smallShape === null) !== (lowResolutionPath === undefined))
        throw new UsageError(
          smallShape
            ? `this is a super-resolution model: give --low-resolution IMAGE.png (${smallShape[0]}x${smallShape[1]} tiles)`
            : '--low-resolution needs a super-resolution model',
        );
      const lowResolution =
        smallShape && lowResolutionPath
          ? lowResolutionTiles(decodeImage(readFileSync(lowResolutionPath), lowResolutionPath), smallShape, labels.length, lowResolutionPath)
          : undefined;
      const step = pipeline.metadata.training?.step ?? pipeline.extra['step'];
      io.stderr(
        `sample: ${checkpoint} (${pipeline.weights} weights${step !== undefined ? `, step ${step}` : ''}), ${settings.sampler} ${settings.steps} steps (linspace:${settings.steps}), ` +
          `guidance ${settings.guidance}${settings.guidance === 'none' ? '' : ` w=${settings.scale}`}${unconditional ? ', unconditional (null class)' : ''}\n`,
      );
      const started = performance.now();
      const images = await generateInParallel(pipeline, {
        ...generateSettings(settings),
        ...(numClasses === null ? { count: labels.length } : { labels }),
        seed,
        unconditional,
        ...(lowResolution ? { lowResolution } : {}),
        files,
        backend: backend.active,
        workers: lowResolution ? 0 : settings.workers,
        onProgress: (done, total) => io.stderr(`sampled ${done}/${total}\n`),
      });
      const seconds = (performance.now() - started) / 1000;
      const grid = tileImages(images, { columns: perClass, pad, scale: cellScale });
      images.dispose();
      const size = { width: grid.shape[1], height: grid.shape[0] };
      try {
        if (out) {
          await writePng(out, grid);
          io.stderr(`wrote ${out}: ${classes.length} rows (classes ${classes.join(', ')}) x ${perClass} columns\n`);
        }
      } finally {
        grid.dispose();
      }
      let chainSummary: { steps: readonly number[]; timesteps: readonly number[] } | null = null;
      if (chainPath) {
        const chain = await sampleDenoisingChain(
          pipeline,
          {
            ...generateSettings(settings),
            ...(numClasses === null ? { count: 1 } : { labels: classes }),
            ...(lowResolution ? { lowResolution: lowResolution.filter((_, index) => index % perClass === 0) } : {}),
            unconditional,
            seed: `${seed}/chain`,
          },
          chainColumns,
        );
        const chainGrid = tf.tidy(() =>
          tileImages(tf.tensor4d(chain.images, [2 * classes.length * chain.steps.length, ...pipeline.dataShape]), {
            columns: chain.steps.length,
            pad,
            scale: cellScale,
          }),
        );
        try {
          await writePng(chainPath, chainGrid);
        } finally {
          chainGrid.dispose();
        }
        chainSummary = { steps: chain.steps, timesteps: chain.timesteps };
        io.stderr(`wrote ${chainPath}: per class a row of x_t and a row of predicted x0 at timesteps ${chain.timesteps.join(', ')}\n`);
      }
      if (values['json']) {
        io.stdout(
          `${JSON.stringify({
            checkpoint,
            weights: pipeline.weights,
            sampler: settings.sampler,
            steps: settings.steps,
            eta: settings.eta,
            karras: settings.karras,
            guidance: settings.guidance,
            scale: settings.scale,
            unconditional,
            classes,
            perClass,
            seed,
            out: out ?? null,
            chain: chainPath ? { file: chainPath, ...chainSummary } : null,
            ...size,
            seconds,
            imagesPerSecond: labels.length / seconds,
          })}\n`,
        );
      }
    } finally {
      pipeline.dispose();
    }
  },
};
