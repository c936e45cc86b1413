import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpointFile, listCheckpoints, parseModelFile } from '@tfjs-diffusion/checkpoints/node';
import { loadTrainingCheckpoint } from '@tfjs-diffusion/training/node';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { tinyConfigFile, tinyImageFolder } from '../test-utils/tiny-data.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), interactive: false });
  return { code, stdout, stderr };
}

const temporary = () => mkdtempSync(join(tmpdir(), 'tfjs-diffusion-train-'));
// A tiny U-Net on 8x8 images and few steps: importance sampling, EMA, label dropout and warm-up all carry state.
const COMMON = [
  '--dataset',
  `folder:${tinyImageFolder()}`,
  '--image-size',
  '8',
  '--config',
  tinyConfigFile(),
  '--timesteps',
  '30',
  '--batch-size',
  '4',
  '--learning-rate',
  '0.001',
  '--warmup',
  '3',
  '--ema-decay',
  '0.9',
  '--p-uncond',
  '0.3',
  '--importance-sampling',
  '--backend',
  'cpu',
  '--seed',
  '7',
  '--log-every',
  '1',
];

describe('tfjs-diffusion train', () => {
  it('resumes exactly: 4 steps straight equal 2 + --resume + 2 (parameters, EMA, Adam moments, loss history)', async () => {
    const straight = temporary();
    const split = temporary();
    const first = await run('train', ...COMMON, '--steps', '4', '--checkpoint-dir', straight, '--checkpoint-every', '2', '--keep', '5', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ startStep: 0, step: 4, skippedSteps: 0 });
    expect((await listCheckpoints(straight)).map((entry) => entry.step)).toEqual([2, 4]);

    expect((await run('train', ...COMMON, '--steps', '2', '--checkpoint-dir', split)).code).toBe(0);
    const resumed = await run('train', '--resume', '--steps', '2', '--checkpoint-dir', split, '--backend', 'cpu', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming from .*step-000002\.safetensors/);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ startStep: 2, step: 4 });

    const a = await loadTrainingCheckpoint(join(straight, 'step-000004.safetensors'));
    const b = await loadTrainingCheckpoint(join(split, 'step-000004.safetensors'));
    const values = (map: ReadonlyMap<string, { data: Float32Array }>) => new Map([...map].map(([name, tensor]) => [name, Array.from(tensor.data)]));
    const moments = (map: ReadonlyMap<string, Float32Array>) => new Map([...map].map(([name, data]) => [name, Array.from(data)]));
    expect(a.parameters.size).toBeGreaterThan(10);
    expect(values(b.parameters)).toEqual(values(a.parameters));
    expect(a.emaParameters.size).toBe(a.parameters.size);
    expect(values(b.emaParameters)).toEqual(values(a.emaParameters));
    expect(a.trainerState.adam.firstMoments.size).toBe(a.parameters.size);
    expect(moments(b.trainerState.adam.firstMoments)).toEqual(moments(a.trainerState.adam.firstMoments));
    expect(moments(b.trainerState.adam.secondMoments)).toEqual(moments(a.trainerState.adam.secondMoments));
    expect(b.trainerState).toEqual(a.trainerState);
    expect(b.emaUpdates).toBe(4);
    expect(a.trainerState.step).toBe(4);
    expect(a.trainerState.lossHistory).toHaveLength(4);
    expect(a.trainerState.timestepSampler).toMatchObject({ kind: 'importance' });
    expect(a.file.metadata).toMatchObject({
      formatVersion: 1,
      network: { type: 'unet', imageSize: 8, modelChannels: 8, variance: 'learned-range', dropout: 0 },
      schedule: { kind: 'cosine', timesteps: 30 },
      variance: 'learned-range',
      conditioning: { numClasses: 2, nullClass: 2, classNames: ['left', 'right'] },
      data: { shape: [8, 8, 1], range: [-1, 1] },
      weights: 'raw',
    });
    expect(a.file.extra['objective']).toBe('hybrid');
    expect(a.file.extra['command']).toMatch(/^tfjs-diffusion train --dataset folder:.* --config .*--steps 4/);
    expect(b.file.extra['command']).toMatch(/^tfjs-diffusion train --resume --steps 2/);

    // The shipped file: F16 EMA weights under the model's own names, with the same description.
    const shippedBytes = readFileSync(join(straight, 'ema.safetensors'));
    const raw = await loadCheckpointFile(join(straight, 'ema.safetensors'));
    expect([...raw.tensors.values()].every((tensor) => tensor.dtype === 'F16')).toBe(true);
    const shipped = parseModelFile(shippedBytes, 'ema.safetensors');
    expect(shipped.metadata).toMatchObject({ weights: 'ema', conditioning: a.file.metadata.conditioning, schedule: a.file.metadata.schedule });
    expect(shipped.emaTensors).toBeNull();
    expect([...shipped.tensors.keys()].sort()).toEqual([...a.parameters.keys()].sort());
    const emaWeight = a.emaParameters.get('out.2.bias')!.data;
    expect(
      Array.from(shipped.tensors.get('out.2.bias')!.data).map((v, i) => Math.abs(v - emaWeight[i]!) <= 1e-3 * Math.max(1, Math.abs(emaWeight[i]!))),
    ).not.toContain(false);
    // The loss curve next to the checkpoints.
    const png = PNG.sync.read(readFileSync(join(straight, 'loss.png')));
    expect(png.width).toBeGreaterThan(600);
    expect(existsSync(join(split, 'loss.png'))).toBe(true);
  });

  it('--resume after a kill mid-save: removes the leftover temporary file, skips the torn newest checkpoint and says so', async () => {
    const directory = temporary();
    expect((await run('train', ...COMMON, '--steps', '2', '--checkpoint-every', '1', '--checkpoint-dir', directory)).code).toBe(0);
    const deadPid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(join(directory, `.step-000003.safetensors.${deadPid}.0123456789ab.tmp`), 'partial');
    truncateSync(join(directory, 'step-000002.safetensors'), 4000);
    const resumed = await run('train', '--resume', '--steps', '1', '--checkpoint-dir', directory, '--backend', 'cpu', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/--resume: skipping .*step-000002\.safetensors: /);
    expect(resumed.stderr).toMatch(/resuming from .*step-000001\.safetensors/);
    expect(resumed.stderr).toMatch(/removed 1 temporary file/);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ startStep: 1, step: 2 });
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('rejects bad options by name', async () => {
    const directory = temporary();
    const cases: [string[], RegExp, number][] = [
      [['train', '--checkpoint-dir', directory, '--colour', 'red'], /Unknown option '--colour'/, 2],
      [['train', '--steps', '3'], /--checkpoint-dir DIR is required/, 2],
      [
        ['train', '--checkpoint-dir', directory, '--dataset', 'cifar'],
        /--dataset must be one of mnist \| fashion-mnist \| folder:PATH, got 'cifar'/,
        2,
      ],
      [['train', '--checkpoint-dir', directory, '--dataset', 'folder:/nowhere'], /--image-size is required/, 2],
      [['train', '--checkpoint-dir', directory, '--network', 'huge'], /--network must be one of .*mnist-tiny/, 2],
      [['train', '--checkpoint-dir', directory, '--objective', 'l2'], /--objective must be one of simple, hybrid, kl/, 2],
      [['train', '--checkpoint-dir', directory, '--batch-size', '0'], /--batch-size must be an integer/, 2],
      [['train', '--checkpoint-dir', directory, '--p-uncond', '1.5'], /--p-uncond must be a number in \[0, 1\]/, 2],
      [['train', '--checkpoint-dir', directory, '--network', 'mnist-tiny', '--config', 'x.json'], /either --network PRESET or --config/, 2],
      [['train', '--checkpoint-dir', directory, '--resume', '--backend', 'cpu'], /no step-NNNNNN.safetensors checkpoint in/, 1],
    ];
    for (const [argv, message, code] of cases) {
      const result = await run(...argv);
      expect(result.code, argv.join(' ')).toBe(code);
      expect(result.stderr, argv.join(' ')).toMatch(message);
    }
  });

  it('refuses to resume with settings that differ from the checkpoint', async () => {
    const directory = temporary();
    expect((await run('train', ...COMMON, '--steps', '1', '--checkpoint-dir', directory)).code).toBe(0);
    const result = await run('train', '--resume', '--batch-size', '8', '--steps', '1', '--checkpoint-dir', directory, '--backend', 'cpu');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--batch-size 8 differs from 4 in .*step-000001\.safetensors/);
  });
});

describe('tfjs-diffusion train --skip-bad-images', () => {
  it('refuses a folder with an empty image file, and with --skip-bad-images warns about it by name and trains on the rest', async () => {
    const folder = tinyImageFolder(3);
    writeFileSync(join(folder, 'left', 'broken.png'), new Uint8Array(0));
    const common = ['--dataset', `folder:${folder}`, '--image-size', '8', '--config', tinyConfigFile(), '--timesteps', '10', '--batch-size', '2'];
    const refused = await run('train', ...common, '--steps', '1', '--backend', 'cpu', '--checkpoint-dir', temporary());
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/broken\.png.*empty/);
    const skipped = await run('train', ...common, '--steps', '1', '--backend', 'cpu', '--skip-bad-images', '--checkpoint-dir', temporary(), '--json');
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toMatch(/broken\.png/);
    expect(JSON.parse(skipped.stdout)).toMatchObject({ step: 1 });
  });
});
