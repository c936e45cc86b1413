import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), interactive: false });
  return { code, stdout, stderr };
}

describe('tfjs-diffusion schedule', () => {
  it('prints one JSON object with the reference numbers (linear, T=1000)', async () => {
    const { code, stdout } = await run('schedule', '--kind', 'linear', '--timesteps', '1000', '--json');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const schedule = JSON.parse(stdout);
    expect(Object.keys(schedule).sort()).toEqual(['alphaBars', 'betas', 'kept', 'kind', 'respace', 'timesteps']);
    expect(schedule.kind).toBe('linear');
    expect(schedule.timesteps).toBe(1000);
    expect(schedule.respace).toBeNull();
    expect(schedule.kept).toHaveLength(1000);
    expect(schedule.alphaBars[0]).toBeCloseTo(0.9999, 12);
    expect(schedule.alphaBars[499]).toBeCloseTo(0.078587, 6);
    expect(schedule.alphaBars[999] / 4.0358e-5).toBeCloseTo(1, 4);
  });

  it('respaces: cosine ddim50 keeps 0, 20, ..., 980 with the original alphaBar there', async () => {
    const full = JSON.parse((await run('schedule', '--kind', 'cosine', '--json')).stdout);
    const { code, stdout } = await run('schedule', '--kind', 'cosine', '--respace', 'ddim50', '--json');
    expect(code).toBe(0);
    const respaced = JSON.parse(stdout);
    expect(respaced.respace).toBe('ddim50');
    expect(respaced.kept).toEqual(Array.from({ length: 50 }, (_, i) => 20 * i));
    respaced.kept.forEach((t: number, i: number) => expect(respaced.alphaBars[i]).toBe(full.alphaBars[t]));
    expect(respaced.betas[1]).toBeCloseTo(1 - full.alphaBars[20] / full.alphaBars[0], 15);
  });

  it('draws the linear-versus-cosine figure', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tfjs-diffusion-')), 'schedules.png');
    const { code } = await run('schedule', '--kind', 'linear,cosine', '--plot', file);
    expect(code).toBe(0);
    const png = PNG.sync.read(readFileSync(file));
    expect(png.width).toBeGreaterThan(100);
    // Both series are drawn: blue (linear) and orange (cosine) pixels exist.
    let blue = 0;
    let orange = 0;
    for (let offset = 0; offset < png.data.length; offset += 4) {
      const [r, g, b] = [png.data[offset], png.data[offset + 1], png.data[offset + 2]];
      if (r === 31 && g === 119 && b === 180) blue += 1;
      if (r === 255 && g === 127 && b === 14) orange += 1;
    }
    expect(blue).toBeGreaterThan(200);
    expect(orange).toBeGreaterThan(200);
  });

  it('rejects bad input with messages that name the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['schedule', '--kind', 'quadratic', '--json'], /--kind must be one of/],
      [['schedule', '--kind', 'linear', '--timesteps', 'ten', '--json'], /--timesteps must be an integer/],
      [['schedule', '--kind', 'linear', '--respace', 'ddim7000', '--json'], /ddim7000|more|steps/i],
      [['schedule', '--kind', 'linear', '--respace', '10,,20', '--json'], /10,,20|malformed|empty/i],
      [['schedule', '--kind', 'linear', '--json', '--colour', 'red'], /Unknown option '--colour'/],
      [['schedule', '--kind', 'linear'], /--json, --plot/],
      [['schedule', '--kind', 'linear,cosine', '--json'], /single --kind/],
    ];
    for (const [argv, message] of cases) {
      const { code, stderr } = await run(...argv);
      expect(code, argv.join(' ')).not.toBe(0);
      expect(stderr, argv.join(' ')).toMatch(message);
    }
  });
});

describe('tfjs-diffusion', () => {
  it('lists its commands and rejects unknown ones', async () => {
    const listing = await run('--help');
    expect(listing.code).toBe(0);
    expect(listing.stdout).toMatch(/schedule/);
    expect(listing.stdout).toMatch(/toy/);
    const unknown = await run('paint');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'paint'/);
  });

  it('rejects an unknown backend by name', async () => {
    const { code, stderr } = await run('toy', '--dataset', 'two-moons', '--json', '--backend', 'quantum');
    expect(code).toBe(2);
    expect(stderr).toMatch(/--backend must be one of/);
  });
});
