import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { temporaryDirectory } from '../test-utils/tiny-data.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), interactive: false });
  return { code, stdout, stderr };
}

describe('tfjs-diffusion nll', () => {
  it('prints bits/dim with its breakdown on held-out MNIST digits, and says when the chain is respaced', async () => {
    const directory = temporaryDirectory();
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
      directory,
      '--backend',
      'cpu',
    );
    expect(trained.code, trained.stderr).toBe(0);
    const result = await run(
      'nll',
      '--checkpoint',
      join(directory, 'ema.safetensors'),
      '--n',
      '3',
      '--batch-size',
      '2',
      '--respace',
      '4',
      '--backend',
      'cpu',
    );
    expect(result.code, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({ n: 3, trainingTimesteps: 40, scoredSteps: 4, respace: '4', conditioning: 'true labels' });
    expect(output.note).toMatch(/respaced to 4 of 40 steps/);
    expect(output.bitsPerDim).toBeGreaterThan(0);
    expect(output.prior).toBeGreaterThanOrEqual(0);
    expect(output.prior + output.decoder + output.klTotal).toBeCloseTo(output.bitsPerDim, 6);

    const bad = await run('nll', '--checkpoint', join(directory, 'ema.safetensors'), '--n', '5000', '--backend', 'cpu');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--n 5000 exceeds the \d+ held-out images/);
    const unknown = await run('nll', '--samples', '3');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--samples'/);
  });
});
