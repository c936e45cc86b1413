#!/usr/bin/env node
// Classifier guidance (Dhariwal & Nichol 2021) on the shipped MNIST U-Net, measured with the shipped
// evaluation classifier (models/mnist-evaluation-classifier.safetensors, a clean-digit CNN that the
// guidance never sees). For each sampler and scale s it draws n digits (classes 0..9 in turn), and
// prints one JSON line: class accuracy, mean max-probability, within-class diversity of the
// evaluation classifier's features, and the share of saturated pixels (|x| > 0.99).
//
// --unconditional feeds the model its null class (the unconditional branch it was trained with,
// 10 % label dropout), so only the classifier steers towards the requested digit: scale 0 is chance.
//
// Uses loadPipeline/generate of @tfjs-diffusion/pipelines (the same path as `sample` and the server)
// and the evaluation package; runs from the sources (no build), through vite-node and the vite config:
//   node node_modules/.pnpm/node_modules/vite-node/vite-node.mjs scripts/classifier-guidance-sweep.mjs -- \
//     --samplers ddim,ddpm --scales 0,1,3,10 --n 100 --steps 25 [--unconditional] [--karras] [--classifier FILE]
import { parseArgs } from 'node:util';
import { selectBackend } from '../packages/backends/src/index.ts';
import { classAccuracy, classifierStatistics, loadEvaluationClassifier, withinClassDiversity } from '../packages/evaluation/src/node.ts';
import { loadPipeline, tileImages, writePng } from '../packages/pipelines/src/node.ts';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((argument) => argument !== '--'),
  options: {
    samplers: { type: 'string', default: 'ddim,ddpm' },
    scales: { type: 'string', default: '0,1,3,10' },
    n: { type: 'string', default: '100' },
    steps: { type: 'string', default: '25' },
    'batch-size': { type: 'string', default: '50' },
    seed: { type: 'string', default: '0' },
    unconditional: { type: 'boolean', default: false },
    karras: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'wasm' },
    // the noise-aware classifier that steers (the shipped one by default)
    classifier: { type: 'string', default: 'models/mnist-classifier.safetensors' },
    // writes PREFIX-SAMPLER-sS.png: the samples, 10 per row (row r of the grid: labels 0..9)
    grid: { type: 'string' },
  },
});
const n = Number(values.n);
const steps = Number(values.steps);
const choice = await selectBackend(values.backend);
process.stderr.write(`backend ${choice.active}\n`);

const pipeline = await loadPipeline('models/mnist-unet.safetensors', { classifier: values.classifier });
const evaluator = await loadEvaluationClassifier('models/mnist-evaluation-classifier.safetensors');
const labels = Array.from({ length: n }, (_, index) => index % 10);
const [height, width, channels] = pipeline.dataShape;

for (const sampler of values.samplers.split(',')) {
  for (const scale of values.scales.split(',').map(Number)) {
    const started = Date.now();
    const { images: tensor } = await pipeline.generate({
      labels,
      unconditional: values.unconditional,
      sampler,
      steps,
      karras: values.karras,
      guidance: scale === 0 ? 'none' : 'classifier',
      scale,
      seed: values.seed,
      batchSize: Number(values['batch-size']),
    });
    const images = await tensor.data();
    if (values.grid) {
      const grid = tileImages(tensor, { columns: 10 });
      await writePng(`${values.grid}-${sampler}-s${scale}.png`, grid);
      grid.dispose();
    }
    tensor.dispose();
    const seconds = (Date.now() - started) / 1000;
    const { features, probabilities } = await classifierStatistics(evaluator, images, [height, width, channels]);
    let confidence = 0;
    for (let row = 0; row < n; row += 1) confidence += Math.max(...probabilities.subarray(row * 10, row * 10 + 10));
    let saturated = 0;
    for (const value of images) if (Math.abs(value) > 0.99) saturated += 1;
    const result = {
      sampler,
      karras: values.karras,
      steps,
      unconditional: values.unconditional,
      scale,
      n,
      accuracy: classAccuracy(probabilities, labels, 10),
      confidence: confidence / n,
      diversity: withinClassDiversity(features, labels, features.length / n),
      saturated: saturated / images.length,
      seconds,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}
pipeline.dispose();
