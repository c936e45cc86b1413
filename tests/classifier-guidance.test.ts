// Classifier guidance (Dhariwal & Nichol 2021) on the unconditional branch of the shipped MNIST
// U-Net: the model is fed its null class, so only the shipped noise-aware classifier steers towards
// the requested digit. The independent evaluation classifier (a clean-digit CNN the guidance never
// sees) reads the samples: chance without guidance, most digits right with it (issue 12).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../packages/backends/src/node.ts';
import { classAccuracy, classifierStatistics, loadEvaluationClassifier } from '../packages/evaluation/src/node.ts';
import type { EvaluationClassifier } from '../packages/evaluation/src/node.ts';
import { loadPipeline } from '../packages/pipelines/src/node.ts';
import type { DiffusionPipeline } from '../packages/pipelines/src/node.ts';

const root = new URL('../', import.meta.url);
const labels = Array.from({ length: 20 }, (_, index) => index % 10);

describe('classifier guidance on the null-class branch of the shipped model (wasm)', () => {
  let pipeline: DiffusionPipeline;
  let evaluator: EvaluationClassifier;

  beforeAll(async () => {
    await selectBackend('wasm');
    pipeline = await loadPipeline(new URL('models/mnist-unet.safetensors', root).pathname, {
      classifier: new URL('models/mnist-classifier.safetensors', root).pathname,
    });
    evaluator = await loadEvaluationClassifier(new URL('models/mnist-evaluation-classifier.safetensors', root).pathname);
  });
  afterAll(() => {
    pipeline?.dispose();
    evaluator?.dispose();
  });

  async function accuracyAt(sampler: string, scale: number): Promise<number> {
    const { images } = await pipeline.generate({
      labels,
      unconditional: true,
      sampler,
      steps: 10,
      guidance: scale === 0 ? 'none' : 'classifier',
      scale,
      seed: 0,
      batchSize: 20,
    });
    const values = (await images.data()) as Float32Array;
    images.dispose();
    const { probabilities } = await classifierStatistics(evaluator, values, pipeline.dataShape);
    return classAccuracy(probabilities, labels, 10);
  }

  it('DDIM: chance at s = 0, most digits right at s = 3', async () => {
    const unguided = await accuracyAt('ddim', 0);
    const guided = await accuracyAt('ddim', 3);
    expect(unguided).toBeLessThanOrEqual(0.3);
    expect(guided).toBeGreaterThanOrEqual(0.75);
  });
});
