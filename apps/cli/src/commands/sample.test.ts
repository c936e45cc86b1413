import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { temporaryDirectory, tinyConfigFile, tinyImageFolder } from '../test-utils/tiny-data.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), interactive: false });
  return { code, stdout, stderr };
}

let directory = '';
let checkpoint = '';

beforeAll(async () => {
  directory = temporaryDirectory();
  const trained = await run(
    'train',
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
    '--steps',
    '2',
    '--checkpoint-dir',
    directory,
    '--backend',
    'cpu',
  );
  expect(trained.code, trained.stderr).toBe(0);
  checkpoint = join(directory, 'step-000002.safetensors');
});

describe('tfjs-diffusion sample', () => {
  it('writes one row per class in the given order, N columns, cells framed by black pad pixels', async () => {
    const out = join(directory, 'grid.png');
    const result = await run(
      'sample',
      '--checkpoint',
      checkpoint,
      '--classes',
      '1,0',
      '--per-class',
      '3',
      '--steps',
      '4',
      '--pad',
      '3',
      '--cell-scale',
      '2',
      '--guidance',
      'cfg',
      '--scale',
      '2',
      '--seed',
      '5',
      '--backend',
      'cpu',
      '--out',
      out,
      '--json',
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({ weights: 'ema', sampler: 'ddim', steps: 4, guidance: 'cfg', scale: 2, classes: [1, 0], perClass: 3 });
    const png = PNG.sync.read(readFileSync(out));
    const [pad, cell] = [3, 8 * 2];
    expect(png.width).toBe(pad + 3 * (cell + pad));
    expect(png.height).toBe(pad + 2 * (cell + pad));
    expect([summary.width, summary.height]).toEqual([png.width, png.height]);
    const grey = (x: number, y: number) => png.data[(y * png.width + x) * 4] as number;
    for (let x = 0; x < png.width; x += 1) {
      for (const y of [0, 1, 2, pad + cell, pad + cell + 2, png.height - 1]) expect(grey(x, y), `${x},${y}`).toBe(0);
    }
    for (let y = 0; y < png.height; y += 1) for (const x of [0, 2, pad + cell + 1, png.width - 1]) expect(grey(x, y)).toBe(0);
    // magnified 2x: every cell pixel equals its 2x2 block's top-left pixel
    for (let y = pad; y < pad + cell; y += 2) for (let x = pad; x < pad + cell; x += 2) expect(grey(x + 1, y + 1)).toBe(grey(x, y));

    // the same seed gives the same grid; another sampler runs too
    const again = await run(
      'sample',
      '--checkpoint',
      checkpoint,
      '--classes',
      '1,0',
      '--per-class',
      '3',
      '--steps',
      '4',
      '--pad',
      '3',
      '--cell-scale',
      '2',
      '--guidance',
      'cfg',
      '--scale',
      '2',
      '--seed',
      '5',
      '--backend',
      'cpu',
      '--out',
      join(directory, 'again.png'),
    );
    expect(again.code).toBe(0);
    expect(readFileSync(join(directory, 'again.png')).equals(readFileSync(out))).toBe(true);
    const karras = await run(
      'sample',
      '--checkpoint',
      checkpoint,
      '--per-class',
      '2',
      '--steps',
      '3',
      '--sampler',
      'dpm-solver-plus-plus-2m',
      '--karras',
      '--backend',
      'cpu',
      '--json',
    );
    expect(karras.code, karras.stderr).toBe(0);
    expect(JSON.parse(karras.stdout)).toMatchObject({ classes: [0, 1], width: 2 + 2 * 10, height: 2 + 2 * 10 });
  });

  it('draws the same grid on worker threads as on the calling thread (each image has its own noise stream)', async () => {
    const common = [
      'sample',
      '--checkpoint',
      checkpoint,
      '--classes',
      '1,0,1',
      '--per-class',
      '3',
      '--steps',
      '3',
      '--sampler',
      'ddpm',
      '--guidance',
      'cfg',
      '--scale',
      '1',
      '--batch-size',
      '4',
      '--seed',
      '11',
      '--backend',
      'cpu',
    ];
    const inline = await run(...common, '--workers', '0', '--out', join(directory, 'inline.png'));
    expect(inline.code, inline.stderr).toBe(0);
    const threaded = await run(...common, '--workers', '2', '--out', join(directory, 'threaded.png'));
    expect(threaded.code, threaded.stderr).toBe(0);
    // 9 images in batches of 4: three batches, the stochastic DDPM noise included
    expect(threaded.stderr).toContain('sampled 9/9');
    expect(readFileSync(join(directory, 'threaded.png')).equals(readFileSync(join(directory, 'inline.png')))).toBe(true);
    const otherSeed = await run(...common.slice(0, -4), '--seed', '12', '--backend', 'cpu', '--workers', '2', '--out', join(directory, 'other.png'));
    expect(otherSeed.code, otherSeed.stderr).toBe(0);
    expect(readFileSync(join(directory, 'other.png')).equals(readFileSync(join(directory, 'inline.png')))).toBe(false);
  });

  it('--chain draws x_t and predicted x0 rows per class at evenly spread steps', async () => {
    const chain = join(directory, 'chain.png');
    const result = await run(
      'sample',
      '--checkpoint',
      checkpoint,
      '--classes',
      '1,0',
      '--per-class',
      '1',
      '--steps',
      '4',
      '--chain',
      chain,
      '--chain-columns',
      '3',
      '--backend',
      'cpu',
      '--json',
    );
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.chain.steps).toEqual([0, 2, 3]);
    // respaced linspace:4 of T = 30: timesteps 29, 19, 10, 0; shown after steps 0, 2, 3
    expect(summary.chain.timesteps).toEqual([29, 10, 0]);
    const png = PNG.sync.read(readFileSync(chain));
    expect([png.width, png.height]).toEqual([2 + 3 * (8 + 2), 2 + 4 * (8 + 2)]);
    // x_t after the first step is still mostly noise; it differs from the predicted x0 beneath it
    const cell = (row: number, column: number) => {
      const values: number[] = [];
      for (let y = 0; y < 8; y += 1)
        for (let x = 0; x < 8; x += 1) values.push(png.data[((2 + row * 10 + y) * png.width + 2 + column * 10 + x) * 4] as number);
      return values;
    };
    expect(cell(0, 0)).not.toEqual(cell(1, 0));
    expect(new Set(cell(0, 0)).size).toBeGreaterThan(4);
  });

  it('names the file when the checkpoint is corrupt or missing', async () => {
    const corrupt = join(directory, 'corrupt.safetensors');
    writeFileSync(corrupt, readFileSync(checkpoint).subarray(0, 200));
    const broken = await run('sample', '--checkpoint', corrupt, '--backend', 'cpu', '--json');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(corrupt);
    const missing = await run('sample', '--checkpoint', join(directory, 'nothing.safetensors'), '--backend', 'cpu', '--json');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nothing\.safetensors does not exist/);
    const missingModel = await run('sample', '--model', join(directory, 'absent.safetensors'), '--backend', 'cpu', '--json');
    expect(missingModel.code).toBe(1);
    expect(missingModel.stderr).toMatch(/absent\.safetensors does not exist/);
  });

  it('rejects bad options by name', async () => {
    const cases: [string[], RegExp][] = [
      [['sample', '--checkpoint', 'x', '--json', '--temperature', '2'], /Unknown option '--temperature'/],
      [['sample', '--checkpoint', 'x'], /--out FILE.png is required/],
      [['sample', '--checkpoint', 'x', '--json', '--sampler', 'plms'], /--sampler must be one of ddpm, ddim, euler/],
      [['sample', '--checkpoint', 'x', '--json', '--scale', '3'], /--scale 3 needs --guidance cfg or --guidance classifier/],
      [
        ['sample', '--checkpoint', 'x', '--json', '--unconditional', '--guidance', 'cfg'],
        /--unconditional with --guidance cfg has nothing to steer with/,
      ],
      [['sample', '--checkpoint', 'x', '--json', '--sampler', 'ddim', '--karras'], /--karras applies to euler/],
      [['sample', '--checkpoint', 'x', '--json', '--sampler', 'heun', '--eta', '0.5'], /--eta applies to ddim, euler-ancestral/],
      [['sample', '--checkpoint', 'x', '--json', '--per-class', '0'], /--per-class must be an integer/],
      [['sample', '--checkpoint', 'x', '--model', 'y', '--json'], /--model and --checkpoint name the same file/],
    ];
    for (const [argv, message] of cases) {
      const result = await run(...argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).toMatch(message);
    }
    const noGuidance = await run(
      'sample',
      '--checkpoint',
      checkpoint,
      '--guidance',
      'none',
      '--scale',
      '0',
      '--per-class',
      '1',
      '--steps',
      '2',
      '--backend',
      'cpu',
      '--json',
    );
    expect(noGuidance.code, noGuidance.stderr).toBe(0);
    expect(JSON.parse(noGuidance.stdout)).toMatchObject({ guidance: 'none', scale: 0 });
    const unconditional = await run(
      'sample',
      '--checkpoint',
      checkpoint,
      '--unconditional',
      '--per-class',
      '1',
      '--steps',
      '2',
      '--backend',
      'cpu',
      '--json',
    );
    expect(unconditional.code, unconditional.stderr).toBe(0);
    expect(unconditional.stderr).toContain('unconditional (null class)');
    expect(JSON.parse(unconditional.stdout)).toMatchObject({ unconditional: true, guidance: 'none', classes: [0, 1] });
    const classes = await run('sample', '--checkpoint', checkpoint, '--classes', '0,7', '--backend', 'cpu', '--json');
    expect(classes.code).toBe(2);
    expect(classes.stderr).toMatch(/--classes must list integers in \[0, 1\]/);
  });
});
