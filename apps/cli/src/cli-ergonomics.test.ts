import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeBackend } from './backend-option.js';
import { runCli } from './cli.js';
import { closestMatch, editDistance } from './did-you-mean.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), interactive: false });
  return { code, stdout, stderr, lines: stderr.trimEnd().split('\n') };
}

describe('did you mean', () => {
  it('counts an adjacent swap as one edit and finds the intended word', () => {
    expect(editDistance('smaple', 'sample')).toBe(1);
    expect(editDistance('setps', 'steps')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closestMatch('smaple', ['schedule', 'toy', 'sample', 'train'])).toBe('sample');
    expect(closestMatch('trian', ['train', 'train-classifier'])).toBe('train');
    expect(closestMatch('checkp', ['checkpoint', 'classes'])).toBe('checkpoint');
    expect(closestMatch('paint', ['schedule', 'toy', 'sample'])).toBeUndefined();
  });
});

describe('tfjs-diffusion usage errors', () => {
  it('--version prints the package version', async () => {
    const { code, stdout } = await run('--version');
    expect(code).toBe(0);
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(stdout).toBe(`${manifest.version}\n`);
  });

  it('suggests the command meant, in one line plus a pointer to --help (no full usage)', async () => {
    const { code, lines, stdout } = await run('smaple', '--out', 'x.png');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(lines).toEqual(["tfjs-diffusion: unknown command 'smaple'; did you mean 'sample'?", "Run 'tfjs-diffusion --help' for the commands."]);
  });

  it('suggests the option meant', async () => {
    const steps = await run('toy', '--dataset', 'two-moons', '--setps', '3', '--json');
    expect(steps.code).toBe(2);
    expect(steps.lines).toEqual([
      "tfjs-diffusion toy: Unknown option '--setps'; did you mean '--steps'?",
      "Run 'tfjs-diffusion toy --help' for its options.",
    ]);
    const json = await run('schedule', '--kind', 'linear', '--jsno');
    expect(json.lines[0]).toBe("tfjs-diffusion schedule: Unknown option '--jsno'; did you mean '--json'?");
    const kind = await run('schedule', '--kind', 'cosin', '--json');
    expect(kind.lines[0]).toMatch(/--kind must be one of .*got 'cosin'/);
  });

  it('says a negative value is out of range, not that the argument is ambiguous', async () => {
    const { code, stderr, lines } = await run('toy', '--dataset', 'two-moons', '--steps', '-5', '--json');
    expect(code).toBe(2);
    expect(stderr).not.toMatch(/ambiguous/);
    expect(lines[0]).toBe('tfjs-diffusion toy: --steps must be an integer in [1, 1000], got -5: out of range');
    const eta = await run('toy', '--dataset', 'two-moons', '--eta', '-0.5', '--json');
    expect(eta.lines[0]).toBe('tfjs-diffusion toy: --eta must be a number in [0, 1], got -0.5: out of range');
    const malformed = await run('toy', '--dataset', 'two-moons', '--steps', 'many', '--json');
    expect(malformed.lines[0]).toBe("tfjs-diffusion toy: --steps must be an integer in [1, 1000], got 'many'");
  });

  it('refuses an option given twice, in both spellings', async () => {
    const spaced = await run('toy', '--dataset', 'two-moons', '--steps', '3', '--steps', '4', '--json');
    expect(spaced.code).toBe(2);
    expect(spaced.lines[0]).toBe("tfjs-diffusion toy: --steps was given twice ('--steps 3', then '--steps 4'): give it once");
    const mixed = await run('schedule', '--kind', 'linear', '--json', '--json');
    expect(mixed.lines[0]).toMatch(/--json was given twice/);
    const inline = await run('schedule', '--kind=linear', '--kind', 'cosine', '--json');
    expect(inline.lines[0]).toMatch(/--kind was given twice/);
  });

  it('refuses positional arguments', async () => {
    const { code, lines } = await run('schedule', 'cosine', '--json');
    expect(code).toBe(2);
    expect(lines[0]).toMatch(/unexpected argument 'cosine'/);
  });

  it('checks output files before any work, for every command that writes one', async () => {
    const cases: [string[], string][] = [
      [
        ['toy', '--dataset', 'two-moons', '--out', '/nonexistent/x.png'],
        'toy: --out /nonexistent/x.png: the folder /nonexistent does not exist (create it first)',
      ],
      [['sample', '--out', '/nonexistent/x.png'], 'sample: --out /nonexistent/x.png: the folder /nonexistent does not exist (create it first)'],
      [['sample', '--out', 'grid.jpg'], 'sample: --out grid.jpg: this writes PNG only; give a name ending in .png'],
      [['sample', '--out', 'grid.png', '--chain', 'chain.gif'], 'sample: --chain chain.gif: this writes PNG only; give a name ending in .png'],
      [
        ['schedule', '--kind', 'linear', '--plot', 'schedules.jpg'],
        'schedule: --plot schedules.jpg: this writes PNG or SVG only; give a name ending in .png or .svg',
      ],
      [
        ['toy', '--dataset', 'two-moons', '--out', tmpdir() + '/'],
        `toy: --out ${tmpdir()}/: this writes PNG or SVG only; give a name ending in .png or .svg`,
      ],
    ];
    for (const [argv, message] of cases) {
      const { code, stdout, lines } = await run(...argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(stdout).toBe('');
      // The check comes first: no backend line, no training or sampling progress before it.
      expect(lines, argv.join(' ')).toEqual([`tfjs-diffusion ${message}`, `Run 'tfjs-diffusion ${argv[0]} --help' for its options.`]);
    }
    const folder = mkdtempSync(join(tmpdir(), 'tfjs-diffusion-out-'));
    const dirAsFile = await run('schedule', '--kind', 'linear', '--plot', join(folder));
    expect(dirAsFile.lines[0]).toMatch(/this writes PNG or SVG only/);
  });
});

describe('the backend line', () => {
  const choice = {
    requested: 'auto' as const,
    active: 'wasm',
    reason:
      "auto chose 'wasm': tfjs-backend-wasm (SIMD on, threads off); training kernels registered: OneHot, Identity, Cast; native OpenBLAS kernels: Conv2D, FusedConv2D (AVX-512 SGEMM, OpenBLAS 0.3.21, 2 threads); tried first: tensorflow: not installed",
  };

  it('is one short line by default and the whole reason with --verbose', () => {
    expect(describeBackend(choice, false)).toBe('backend: wasm (auto, native CPU kernels; --verbose says more)');
    expect(describeBackend({ ...choice, requested: 'cpu' as never, active: 'cpu', reason: 'native kernels unavailable: no gcc' }, false)).toBe(
      'backend: cpu (requested, no native kernels; --verbose says more)',
    );
    expect(describeBackend(choice, true)).toBe(`backend: wasm (${choice.reason})`);
  });

  it('is what a command prints: short by default, detailed with --verbose', async () => {
    const tiny = [
      'toy',
      '--dataset',
      'two-moons',
      '--train-steps',
      '2',
      '--samples',
      '4',
      '--steps',
      '2',
      '--batch-size',
      '8',
      '--json',
      '--backend',
      'cpu',
    ];
    const plain = await run(...tiny);
    expect(plain.code).toBe(0);
    const backendLine = plain.lines.find((line) => line.startsWith('backend: '));
    expect(backendLine).toMatch(/^backend: cpu \(requested(, (native CPU kernels|no native kernels))?; --verbose says more\)$/);
    const verbose = await run(...tiny, '--verbose');
    expect(verbose.code).toBe(0);
    expect(verbose.lines.find((line) => line.startsWith('backend: '))).toMatch(
      /^backend: cpu \(requested 'cpu': tfjs-backend-cpu .*training kernels registered/,
    );
  });
});
