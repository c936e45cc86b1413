import { mkdtemp, readdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@tfjs-diffusion/backends';
import { loadCheckpointFile, listCheckpoints } from '@tfjs-diffusion/checkpoints/node';
import type { ImageDataset } from '@tfjs-diffusion/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { findResumableCheckpoint, findResume } from './resumable-checkpoint.js';
import { runTraining } from './run-training.js';
import { loadTrainingCheckpoint } from './training-checkpoint.js';
import type { TrainSettings } from './training-run.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

const temporary = () => mkdtemp(join(tmpdir(), 'tfjs-diffusion-run-'));

// 10 images 8x8x1 in two classes (bright left / right half).
const DATASET: ImageDataset = (() => {
  const count = 10;
  const images = new Float32Array(count * 64);
  const labels = Int32Array.from({ length: count }, (_, index) => index % 2);
  for (let index = 0; index < count; index += 1) {
    for (let pixel = 0; pixel < 64; pixel += 1) images[index * 64 + pixel] = (pixel % 8 < 4 === (labels[index] === 0) ? 0.8 : -0.8) + 0.01 * index;
  }
  return { images, labels, count, height: 8, width: 8, channels: 1, numClasses: 2 };
})();

const SETTINGS: TrainSettings = {
  dataset: 'test',
  imageSize: 8,
  network: {
    type: 'unet',
    imageSize: 8,
    inChannels: 1,
    modelChannels: 4,
    channelMultipliers: [1],
    numResBlocks: 1,
    attentionResolutions: [],
    groupNormGroups: 2,
    numClasses: 2,
    dropout: 0,
    variance: 'learned-range',
    seed: 3,
  },
  objective: 'hybrid',
  schedule: { kind: 'cosine', timesteps: 20 },
  // more than the 10 images: every batch holds all of them
  batchSize: 12,
  learningRate: 1e-3,
  warmup: 2,
  gradClip: 1,
  emaDecay: 0.99,
  emaWarmup: true,
  pUncond: 0.3,
  importanceSampling: true,
  seed: 5,
};

const common = { settings: SETTINGS, dataset: DATASET, checkpointEvery: 2, keep: 4 };

async function tensorsOf(path: string) {
  const file = await loadCheckpointFile(path);
  return new Map([...file.tensors].map(([name, tensor]) => [name, Array.from(tensor.data)]));
}

describe('runTraining', () => {
  it('4 steps straight equal 2 + resume + 2 bit for bit (parameters, EMA with its warm-up count, Adam, loss history)', async () => {
    const [straight, split] = [await temporary(), await temporary()];
    const checkpoints: string[] = [];
    const notices: string[] = [];
    const first = await runTraining({
      ...common,
      steps: 4,
      checkpointDirectory: straight,
      onCheckpoint: ({ path }) => void checkpoints.push(path),
      onNotice: (message) => notices.push(message),
    });
    expect(notices).toEqual(['batch size 12 exceeds the 10 images of the dataset; each batch holds all 10 images']);
    expect(first).toMatchObject({ startStep: 0, step: 4, skippedSteps: 0 });
    expect(first.lossHistory).toHaveLength(4);
    expect(first.finalLoss).toBeCloseTo(first.lossHistory.reduce((a, b) => a + b, 0) / 4, 10);
    expect(checkpoints.map((path) => path.slice(-23))).toEqual(['step-000002.safetensors', 'step-000004.safetensors']);

    await runTraining({ ...common, steps: 2, checkpointDirectory: split });
    const { checkpoint, skipped } = await findResumableCheckpoint(split);
    expect(skipped).toEqual([]);
    expect(checkpoint.emaUpdates).toBe(2);
    const resumed = await runTraining({ ...common, steps: 2, checkpointDirectory: split, resume: checkpoint });
    expect(resumed).toMatchObject({ startStep: 2, step: 4 });
    expect(resumed.lossHistory).toEqual(first.lossHistory);
    // the final loss of a resumed call: over its own 2 steps only
    expect(resumed.finalLoss).toBeCloseTo((first.lossHistory[2]! + first.lossHistory[3]!) / 2, 10);

    const [a, b] = [await tensorsOf(join(straight, 'step-000004.safetensors')), await tensorsOf(join(split, 'step-000004.safetensors'))];
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [name, values] of a) expect(b.get(name), name).toEqual(values);
    const loaded = await loadTrainingCheckpoint(join(split, 'step-000004.safetensors'));
    expect(loaded.emaUpdates).toBe(4);
    expect(loaded.emaParameters.size).toBe(loaded.parameters.size);
    expect(loaded.trainerState.adam.firstMoments.size).toBe(loaded.parameters.size);
    // the shipped file: F16 EMA weights under the model's own names
    const shipped = await loadCheckpointFile(join(straight, 'ema.safetensors'));
    expect([...shipped.tensors.keys()].sort()).toEqual([...loaded.parameters.keys()].sort());
    expect(shipped.metadata['weights']).toBe('ema');
    expect(shipped.metadata['emaDecay']).toBe('0.99');
    expect(JSON.parse(shipped.metadata['conditioning']!)).toEqual({ numClasses: 2, nullClass: 2 });
    expect(JSON.parse(shipped.metadata['data']!)).toEqual({ shape: [8, 8, 1], range: [-1, 1] });
    const ema = loaded.emaParameters.get('out.2.bias')!.data;
    const shippedBias = shipped.tensors.get('out.2.bias')!.data;
    ema.forEach((value, index) => expect(Math.abs(shippedBias[index]! - value)).toBeLessThanOrEqual(1e-3 * Math.max(1, Math.abs(value))));
  });

  it('after a kill mid-save: removes the leftover temporary file and resumes from the newest checkpoint that validates', async () => {
    const directory = await temporary();
    await runTraining({ ...common, checkpointEvery: 1, steps: 3, checkpointDirectory: directory });
    // a save killed before its rename (pid of a process that has exited) and a torn newest checkpoint
    const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const leftover = join(directory, `.step-000006.safetensors.${deadPid}.0123456789ab.tmp`);
    await writeFile(leftover, (await readFile(join(directory, 'step-000003.safetensors'))).subarray(0, 1000));
    await truncate(join(directory, 'step-000003.safetensors'), 5000);
    await writeFile(join(directory, 'step-000004.safetensors'), '');
    await symlink(join(directory, 'gone.safetensors'), join(directory, 'step-000005.safetensors'));

    const { checkpoint, skipped } = await findResumableCheckpoint(directory);
    expect(checkpoint.path).toBe(join(directory, 'step-000002.safetensors'));
    expect(skipped.map((entry) => entry.path)).toEqual(
      ['step-000005', 'step-000004', 'step-000003'].map((name) => join(directory, `${name}.safetensors`)),
    );
    expect(skipped[0]!.reason).toMatch(/does not exist/);
    expect(skipped[1]!.reason).toMatch(/step-000004\.safetensors/);
    expect(skipped[2]!.reason).toMatch(/step-000003\.safetensors/);

    const notices: string[] = [];
    const resumed = await runTraining({
      ...common,
      steps: 1,
      checkpointDirectory: directory,
      resume: checkpoint,
      onNotice: (message) => notices.push(message),
    });
    expect(resumed.removedTemporaryFiles).toEqual([leftover]);
    expect(notices[0]).toMatch(/removed 1 temporary file/);
    expect(resumed).toMatchObject({ startStep: 2, step: 3 });
    expect((await readdir(directory)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect((await listCheckpoints(directory)).map((entry) => entry.step)).toContain(3);
  });

  it('refuses a dataset whose channels differ from the network input, before touching the directory', async () => {
    const rgb = { ...DATASET, channels: 3, images: new Float32Array(DATASET.count * 192) };
    await expect(runTraining({ ...common, dataset: rgb, steps: 1, checkpointDirectory: '/nonexistent/run' })).rejects.toThrow(
      'the network has 1 input channels but test has 3',
    );
  });

  it('findResume: the newest checkpoint, its stored settings, and the given settings that differ from them', async () => {
    const directory = await temporary();
    await runTraining({ ...common, steps: 2, checkpointDirectory: directory });
    const requested = { ...SETTINGS, batchSize: 4, schedule: { kind: 'linear' as const, timesteps: 20 } };
    const found = await findResume(directory, requested, {
      'batch-size': 'batchSize',
      kind: 'schedule.kind',
      steps: 'schedule.timesteps',
      seed: 'seed',
    });
    expect(found.checkpoint.path).toBe(join(directory, 'step-000002.safetensors'));
    expect(found.settings).toEqual(JSON.parse(JSON.stringify(SETTINGS)));
    expect(found.skipped).toEqual([]);
    expect(found.conflicts).toEqual([
      { name: 'batch-size', setting: 'batchSize', requested: 4, stored: 12 },
      { name: 'kind', setting: 'schedule.kind', requested: 'linear', stored: 'cosine' },
    ]);
    expect((await findResume(directory)).conflicts).toEqual([]);
  });

  it('refuses a directory without a usable checkpoint, naming every reason', async () => {
    const directory = await temporary();
    await expect(findResumableCheckpoint(directory)).rejects.toThrow(/no step-NNNNNN.safetensors checkpoint in/);
    await writeFile(join(directory, 'step-000001.safetensors'), '');
    await expect(findResumableCheckpoint(directory)).rejects.toThrow(/no usable checkpoint in .*step-000001\.safetensors/);
  });
});

describe('loadTrainingCheckpoint', () => {
  it("reads the shipped resumable checkpoint of the CLI's earlier layout (format version 0)", async () => {
    const path = fileURLToPath(new URL('../../../models/checkpoints/mnist-unet-step-010000.safetensors', import.meta.url));
    const loaded = await loadTrainingCheckpoint(path);
    expect(loaded.trainerState.step).toBe(10_000);
    expect(loaded.file.metadata.formatVersion).toBe(0);
    expect(loaded.emaUpdates).toBe(10_000 - loaded.trainerState.skippedSteps);
    expect(loaded.emaParameters.size).toBe(loaded.parameters.size);
    expect(loaded.trainerState.adam.firstMoments.size).toBe(loaded.parameters.size);
    expect(loaded.trainerState.adam.secondMoments.size).toBe(loaded.parameters.size);
    expect(loaded.trainerState.lossHistory).toHaveLength(10_000 - loaded.trainerState.skippedSteps);
    expect(JSON.parse(loaded.file.extra['settings']!)).toMatchObject({ objective: 'hybrid', schedule: { kind: 'cosine', timesteps: 1000 } });
  });
});
