import * as tf from '@tensorflow/tfjs-core';
import { createNoiseSource, type TrainableDiffusionModel } from '@tfjs-diffusion/core';
import { createSimpleObjective } from '@tfjs-diffusion/objectives';
import { Trainer, type BatchSource } from '@tfjs-diffusion/training';
import { expect, it } from 'vitest';

import {
  describeOnBackends,
  isWebgpuOnSoftware,
  maxAbsDifference,
  memorySnapshot,
  reportMeasurement,
  scalarAndDispose,
  type ConformanceBackend,
} from './describe-on-backends.js';
import { MLP_SHAPE, TINY_UNET_SHAPE, createTinyMlp, createTinyUNet, fixedBatches, trainingSchedule } from './fixtures.js';
import { cpuReference } from './reference.js';

/** Max abs difference of the per-step training losses from cpu's, same seeds (losses are O(1)). */
const LOSS_HISTORY_TOLERANCE: Record<ConformanceBackend, number> = { cpu: 0, wasm: 1e-4, webgpu: 1e-3 };
/** Max relative difference of the per-step gradient norms from cpu's. */
const GRADIENT_NORM_TOLERANCE: Record<ConformanceBackend, number> = { cpu: 0, wasm: 1e-4, webgpu: 1e-3 };
/** Steps after which GPU memory must no longer grow. */
const WARMUP_STEPS = 10;

interface ModelCase {
  readonly name: string;
  readonly create: () => TrainableDiffusionModel;
  readonly shape: readonly number[];
  readonly learningRate: number;
  /**
   * Steps on this backend: 100 (the leak check), but only SWIFTSHADER_UNET_STEPS for the U-Net on
   * SwiftShader, where one step takes 0.3-1.5 s (CONFORMANCE_SWIFTSHADER_UNET_STEPS=100 for the full check).
   */
  steps(backend: ConformanceBackend): number;
}

const SWIFTSHADER_UNET_STEPS = Number(process.env['CONFORMANCE_SWIFTSHADER_UNET_STEPS'] ?? 12);

const CASES: readonly ModelCase[] = [
  {
    name: 'tiny U-Net',
    create: () => createTinyUNet(),
    shape: TINY_UNET_SHAPE,
    learningRate: 1e-2,
    steps: (backend) => (backend === 'webgpu' && isWebgpuOnSoftware() === true ? SWIFTSHADER_UNET_STEPS : 100),
  },
  { name: 'MLP', create: () => createTinyMlp(), shape: MLP_SHAPE, learningRate: 1e-2, steps: () => 100 },
];

const schedule = trainingSchedule();
const objective = createSimpleObjective();

/** L_simple on a fixed batch with fixed timesteps and noise (a fresh source of one seed each time). */
async function evaluationLoss(model: TrainableDiffusionModel, batches: BatchSource): Promise<number> {
  const { x0 } = batches.next();
  const result = objective.compute({ model, schedule, x0, noise: createNoiseSource('evaluation') });
  tf.dispose([x0, result.perSampleLoss, ...Object.values(result.terms)]);
  return scalarAndDispose(result.loss);
}

type Snapshot = ReturnType<typeof memorySnapshot>;

interface TrainingRun {
  readonly steps: number;
  readonly seconds: number;
  /** The evaluation loss before and after training. */
  readonly before: number;
  readonly after: number;
  /** What the Trainer reported per step. */
  readonly losses: number[];
  readonly mseTerms: number[];
  readonly gradientNorms: number[];
  /** tf.memory() before the first step and after each step (the trainer and model still alive). */
  readonly start: Snapshot;
  readonly snapshots: Snapshot[];
  /** numTensors before the model was made and after model and trainer were disposed. */
  readonly tensorsOutside: readonly [number, number];
  readonly numBytesAllocatedInGPU?: number;
}

/** One seeded training run: evaluation loss, `steps` Trainer steps with a memory snapshot after each, evaluation loss. */
async function trainCase(modelCase: ModelCase, steps: number): Promise<TrainingRun> {
  const tensorsBefore = tf.memory().numTensors;
  const model = modelCase.create();
  const batches = fixedBatches(modelCase.shape);
  const trainer = new Trainer({ model, objective, schedule, batches, seed: 'conformance-training', learningRate: modelCase.learningRate });
  try {
    const before = await evaluationLoss(model, batches);
    const gradientNorms: number[] = [];
    const mseTerms: number[] = [];
    const snapshots: Snapshot[] = [];
    const start = memorySnapshot();
    const started = performance.now();
    await trainer.train(steps, (result) => {
      snapshots.push(memorySnapshot());
      gradientNorms.push(result.gradientNorm);
      mseTerms.push(result.terms['mse'] as number);
    });
    const seconds = (performance.now() - started) / 1000;
    const after = await evaluationLoss(model, batches);
    const allocated = (tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU;
    trainer.dispose();
    model.dispose();
    return {
      steps,
      seconds,
      before,
      after,
      losses: [...trainer.lossHistory],
      mseTerms,
      gradientNorms,
      start,
      snapshots,
      tensorsOutside: [tensorsBefore, tf.memory().numTensors],
      ...(allocated === undefined ? {} : { numBytesAllocatedInGPU: allocated }),
    };
  } catch (error) {
    trainer.dispose();
    model.dispose();
    throw error;
  }
}

const runs = new Map<string, Promise<TrainingRun>>();

/** The run of a case on the active backend, made once per file (and reused as cpu's reference). */
function runOn(backend: ConformanceBackend, modelCase: ModelCase): Promise<TrainingRun> {
  const key = `${backend}:${modelCase.name}`;
  let run = runs.get(key);
  if (run === undefined) {
    run =
      backend === 'cpu'
        ? cpuReference(`training:${modelCase.name}`, () => trainCase(modelCase, modelCase.steps('cpu')))
        : trainCase(modelCase, modelCase.steps(backend));
    runs.set(key, run);
  }
  return run;
}

describeOnBackends('training', (backend) => {
  const cpuRun = (modelCase: ModelCase): Promise<TrainingRun> =>
    cpuReference(`training:${modelCase.name}`, () => trainCase(modelCase, modelCase.steps('cpu')));

  it.each(CASES)('Trainer steps with the simple objective lower a fixed evaluation loss ($name)', async (modelCase) => {
    const run = await runOn(backend.name, modelCase);
    console.log(
      `conformance: ${modelCase.name} training [${backend.name}]: evaluation loss ${run.before.toFixed(4)} -> ${run.after.toFixed(4)} ` +
        `after ${run.steps} steps (${run.seconds.toFixed(1)} s)`,
    );
    expect(run.after).toBeLessThan(0.8 * run.before);
  });

  it.each(CASES)('Trainer steps leak no tensors and no memory ($name)', async (modelCase) => {
    const run = await runOn(backend.name, modelCase);
    const afterWarmup = run.snapshots[Math.min(WARMUP_STEPS, run.steps) - 1] as Snapshot;
    const end = run.snapshots[run.steps - 1] as Snapshot;
    console.log(
      `conformance: ${modelCase.name} leak check [${backend.name}]: ${run.steps} steps; start ${JSON.stringify(run.start)}, ` +
        `after ${WARMUP_STEPS} steps ${JSON.stringify(afterWarmup)}, end ${JSON.stringify(end)}` +
        (run.numBytesAllocatedInGPU === undefined ? '' : `, numBytesAllocatedInGPU ${run.numBytesAllocatedInGPU}`),
    );
    expect(run.snapshots).toHaveLength(run.steps);
    // numTensors and numBytes are the same after every step as before the first (Adam's moments are made up front)
    for (const snapshot of run.snapshots) {
      expect(snapshot.numTensors).toBe(run.start.numTensors);
      expect(snapshot.numBytes).toBe(run.start.numBytes);
    }
    // webgpu: the bytes held in GPU buffers by live tensors do not grow after warm-up
    if (run.start.numBytesInGPU !== undefined) expect(end.numBytesInGPU).toBeLessThanOrEqual(afterWarmup.numBytesInGPU as number);
    // and disposing trainer and model gives every tensor back
    expect(run.tensorsOutside[1]).toBe(run.tensorsOutside[0]);
  });

  // Regression: tfjs-backend-webgpu 4.22's AddN with more than 7 inputs exceeds WebGPU's storage
  // buffer limit and silently drops its command buffer; training's globalNorm once used it, which
  // made the loss and gradient norm wrong on webgpu. These two tests guard the fix.

  it.each(CASES)('the Trainer reports the same losses as cpu for the same seeds ($name)', async (modelCase) => {
    const [reference, run] = await Promise.all([cpuRun(modelCase), runOn(backend.name, modelCase)]);
    const difference = maxAbsDifference(run.losses, reference.losses.slice(0, run.steps));
    reportMeasurement(
      `${modelCase.name} loss history (${run.steps} steps) vs cpu`,
      backend.name,
      difference,
      LOSS_HISTORY_TOLERANCE[backend.name] || 1e-30,
    );
    expect(difference).toBeLessThanOrEqual(LOSS_HISTORY_TOLERANCE[backend.name]);
  });

  it.each(CASES)('the Trainer reports the same gradient norms as cpu ($name)', async (modelCase) => {
    const [reference, run] = await Promise.all([cpuRun(modelCase), runOn(backend.name, modelCase)]);
    const relative = Math.max(
      ...run.gradientNorms.map(
        (norm, step) => Math.abs(norm - (reference.gradientNorms[step] as number)) / (reference.gradientNorms[step] as number),
      ),
    );
    reportMeasurement(
      `${modelCase.name} gradient norms vs cpu`,
      backend.name,
      relative,
      GRADIENT_NORM_TOLERANCE[backend.name] || 1e-30,
      'max relative difference',
    );
    expect(relative).toBeLessThanOrEqual(GRADIENT_NORM_TOLERANCE[backend.name]);
  });

  it.each(CASES)('the mse term (read apart from the loss) matches cpu for the same seeds ($name)', async (modelCase) => {
    const [reference, run] = await Promise.all([cpuRun(modelCase), runOn(backend.name, modelCase)]);
    const difference = maxAbsDifference(run.mseTerms, reference.mseTerms.slice(0, run.steps));
    reportMeasurement(
      `${modelCase.name} mse terms (${run.steps} steps) vs cpu`,
      backend.name,
      difference,
      LOSS_HISTORY_TOLERANCE[backend.name] || 1e-30,
    );
    expect(difference).toBeLessThanOrEqual(LOSS_HISTORY_TOLERANCE[backend.name]);
  });
});
