import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), interactive: false });
  return { code, stdout, stderr };
}

// The large-images options of `bench` (--architecture): every mistake is a usage error naming the
// option, found before anything is converted or run. The runs themselves are tested in
// @tfjs-diffusion/benchmarks (bench-large-images.test.ts).
describe('tfjs-diffusion bench --architecture', () => {
  const checkpoint = join(mkdtempSync(join(tmpdir(), 'bench-cli-')), 'model.pt');
  writeFileSync(checkpoint, 'never read: every call below fails on its options first');

  it.each([
    [['--architecture', 'adm-tiny-16'], '--architecture needs --checkpoint FILE'],
    [['--architecture', 'adm-huge', '--checkpoint', checkpoint], "--architecture must be one of adm-imagenet-64, adm-tiny-16, got 'adm-huge'"],
    [
      ['--architecture', 'adm-tiny-16', '--checkpoint', checkpoint, '--batch', '4'],
      '--batch is an option of the U-Net benchmark, not of --architecture',
    ],
    [['--architecture', 'adm-tiny-16', '--checkpoint', checkpoint, '--workers', '2'], '--workers is an option of the U-Net benchmark'],
    [['--checkpoint', checkpoint], '--checkpoint belongs to the large-images benchmark: give --architecture NAME too'],
    [['--batch-sizes', '1,4'], '--batch-sizes belongs to the large-images benchmark'],
    [
      ['--architecture', 'adm-tiny-16', '--checkpoint', checkpoint, '--batch-sizes', '1,0'],
      "--batch-sizes must list batch sizes from 1 to 256 separated by commas, got '1,0'",
    ],
    [['--architecture', 'adm-tiny-16', '--checkpoint', checkpoint, '--batch-sizes', '2,2'], "--batch-sizes lists a batch size twice: '2,2'"],
    [['--architecture', 'adm-tiny-16', '--checkpoint', join(tmpdir(), 'no-such-model.pt')], /checkpoint .*no-such-model\.pt does not exist/],
    [['--architecture', 'adm-tiny-16', '--checkpoint', checkpoint, '--backend', 'webgl'], "--backend must be one of wasm, cpu, webgpu, got 'webgl'"],
    [['--architecture', 'adm-tiny-16', '--checkpoint', checkpoint, '--peer-device', 'gpu'], "--peer-device must be one of cpu, cuda, got 'gpu'"],
    [['--peer-device', 'cuda'], '--peer-device belongs to the large-images benchmark: give --architecture NAME too'],
    [['--architecture', 'adm-tiny-16', '--checkpoint', checkpoint, '--peer-threads', '0'], /--peer-threads must be an integer in \[1, 256\]/],
    [['--architecture', 'adm-tiny-16', '--checkpoint', checkpoint, '--seed', 'abc'], "--seed must be an integer with --architecture, got 'abc'"],
    [['--architecture', 'adm-tiny-16', '--checkpoint', checkpoint, '--guided-diffusion', tmpdir()], /is not a checkout of openai\/guided-diffusion/],
  ])('bench %j is a usage error', async (argv, message) => {
    const result = await run('bench', ...argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(typeof message === 'string' ? `tfjs-diffusion bench: ${message}` : message);
  });
});
