import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpointFile } from '@tfjs-diffusion/checkpoints/node';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { temporaryDirectory } from '../test-utils/tiny-data.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), interactive: false });
  return { code, stdout, stderr };
}

const TINY_NOISY = {
  imageSize: 28,
  inChannels: 1,
  modelChannels: 8,
  channelMultipliers: [1, 2],
  numResBlocks: 1,
  groupNormGroups: 4,
  numClasses: 10,
  pool: 'adaptive',
};

describe('train-classifier and eval', () => {
  it('trains both classifiers, guides sampling with the noisy one and evaluates samples with the clean one', async () => {
    const directory = temporaryDirectory();
    const configFile = join(directory, 'noisy.json');
    writeFileSync(configFile, JSON.stringify(TINY_NOISY));
    const evaluator = join(directory, 'evaluation.safetensors');
    const noisy = join(directory, 'noisy.safetensors');
    const clean = await run(
      'train-classifier',
      '--clean',
      '--steps',
      '2',
      '--batch-size',
      '4',
      '--test-n',
      '8',
      '--backend',
      'cpu',
      '--out',
      evaluator,
      '--json',
    );
    expect(clean.code, clean.stderr).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ kind: 'evaluation', steps: 2 });
    const cleanFile = await loadCheckpointFile(evaluator);
    expect(JSON.parse(cleanFile.metadata['network']!)).toMatchObject({ type: 'evaluation-classifier', featureDimension: 128 });
    expect(JSON.parse(cleanFile.metadata['schedule']!)).toBeNull();
    expect(JSON.parse(cleanFile.metadata['conditioning']!)).toEqual({
      numClasses: 10,
      nullClass: null,
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    });
    expect([...cleanFile.tensors.values()].every((tensor) => tensor.dtype === 'F16')).toBe(true);

    const trainedNoisy = await run(
      'train-classifier',
      '--kind',
      'noisy',
      '--config',
      configFile,
      '--timesteps',
      '40',
      '--steps',
      '2',
      '--batch-size',
      '4',
      '--test-n',
      '4',
      '--checkpoint-dir',
      directory,
      '--checkpoint-every',
      '1',
      '--backend',
      'cpu',
      '--out',
      noisy,
      '--json',
    );
    expect(trainedNoisy.code, trainedNoisy.stderr).toBe(0);
    const noisyOutput = JSON.parse(trainedNoisy.stdout);
    expect(Object.keys(noisyOutput.testAccuracy)).toEqual(['clean', 't=10', 't=20', 't=30']);
    const noisyFile = await loadCheckpointFile(noisy);
    expect(JSON.parse(noisyFile.metadata['schedule']!)).toEqual({ kind: 'cosine', timesteps: 40 });
    expect(JSON.parse(noisyFile.metadata['network']!)).toMatchObject({ type: 'classifier', pool: 'adaptive' });

    const denoiser = temporaryDirectory();
    expect(
      (
        await run(
          'train',
          '--network',
          'mnist-test',
          '--timesteps',
          '40',
          '--batch-size',
          '2',
          '--steps',
          '1',
          '--checkpoint-dir',
          denoiser,
          '--backend',
          'cpu',
        )
      ).code,
    ).toBe(0);
    const checkpoint = join(denoiser, 'ema.safetensors');
    const guided = await run(
      'sample',
      '--checkpoint',
      checkpoint,
      '--classes',
      '3',
      '--per-class',
      '2',
      '--steps',
      '2',
      '--guidance',
      'classifier',
      '--scale',
      '1',
      '--classifier',
      noisy,
      '--backend',
      'cpu',
      '--json',
    );
    expect(guided.code, guided.stderr).toBe(0);
    expect(JSON.parse(guided.stdout)).toMatchObject({ guidance: 'classifier', scale: 1, width: 2 + 2 * 30, height: 2 + 30 });

    const evaluated = await run(
      'eval',
      '--checkpoint',
      checkpoint,
      '--evaluator',
      evaluator,
      '--n',
      '10',
      '--steps',
      '2',
      '--reference',
      'test',
      '--backend',
      'cpu',
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const output = JSON.parse(evaluated.stdout);
    expect(output.n).toBe(10);
    expect(output.reference).toMatch(/^test/);
    expect(output.fid).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(output.fid)).toBe(true);
    expect(output.classAccuracy).toBeGreaterThanOrEqual(0);
    expect(output.classAccuracy).toBeLessThanOrEqual(1);
    expect(output.inceptionScore).toBeGreaterThanOrEqual(1 - 1e-9);
    expect(output.inceptionScore).toBeLessThanOrEqual(10 + 1e-9);
    expect(output.real.fidTestVsTrain).toBeGreaterThanOrEqual(0);
    // the untrained tiny models map every sample to the same features; real digits differ
    expect(output.diversity).toBeGreaterThanOrEqual(0);
    expect(output.real.diversity).toBeGreaterThan(0);

    const wrongKind = await run('eval', '--checkpoint', checkpoint, '--evaluator', noisy, '--n', '4', '--backend', 'cpu');
    expect(wrongKind.code).toBe(1);
    expect(wrongKind.stderr).toContain(`${noisy} holds a "classifier" network, not an evaluation classifier`);
  });

  it('evaluates the same images for any --batch-size and --workers (each image has its own noise stream)', async () => {
    const denoiser = temporaryDirectory();
    const trained = await run(
      'train',
      '--network',
      'mnist-test',
      '--timesteps',
      '40',
      '--batch-size',
      '2',
      '--steps',
      '1',
      '--checkpoint-dir',
      denoiser,
      '--backend',
      'cpu',
    );
    expect(trained.code, trained.stderr).toBe(0);
    // the shipped evaluation classifier: its features tell the (noise-like) samples of this model apart
    const common = ['eval', '--checkpoint', join(denoiser, 'ema.safetensors'), '--n', '12', '--steps', '3', '--sampler', 'ddpm', '--backend', 'cpu'];
    const metrics = (stdout: string) => {
      const { fid, classAccuracy, inceptionScore, diversity } = JSON.parse(stdout);
      return { fid, classAccuracy, inceptionScore, diversity };
    };
    const inline = await run(...common, '--batch-size', '12', '--workers', '0', '--seed', '4');
    expect(inline.code, inline.stderr).toBe(0);
    const threaded = await run(...common, '--batch-size', '5', '--workers', '2', '--seed', '4');
    expect(threaded.code, threaded.stderr).toBe(0);
    // 12 images in slices of 5, 5 and 2 on two workers
    expect(threaded.stderr).toMatch(/sampled 12\/12/);
    expect(metrics(threaded.stdout)).toEqual(metrics(inline.stdout));
    // classes 0 and 1 have two samples each: they differ
    expect(metrics(inline.stdout).diversity).toBeGreaterThan(0);
    const otherSeed = await run(...common, '--batch-size', '12', '--workers', '0', '--seed', '5');
    expect(otherSeed.code, otherSeed.stderr).toBe(0);
    expect(metrics(otherSeed.stdout).fid).not.toBe(metrics(inline.stdout).fid);
  });

  it('rejects bad options by name', async () => {
    const cases: [string[], RegExp][] = [
      [['train-classifier', '--steps', '3'], /--out FILE.safetensors is required/],
      [['train-classifier', '--out', 'x.safetensors', '--kind', 'fuzzy'], /--kind must be one of noisy, evaluation/],
      [['train-classifier', '--out', 'x.safetensors', '--clean', '--timesteps', '10'], /apply to --kind noisy only/],
      [['eval', '--checkpoint', 'x', '--evaluator', 'y', '--reference', 'val'], /--reference must be one of train, test/],
      [['eval', '--checkpoint', 'x', '--evaluator', 'y', '--fidelity'], /Unknown option '--fidelity'/],
    ];
    for (const [argv, message] of cases) {
      const result = await run(...argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).toMatch(message);
    }
  });
});
