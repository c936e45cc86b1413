/**
 * @tfjs-diffusion/plots from its packed tarball, installed on its own outside the workspace: the
 * ./node entry must find its bundled DejaVu Sans (resolved from the package's own dependency, not
 * from the monorepo) and draw text with it. A chart with a title against the same chart without
 * one: the title's pixels are the font's glyphs. Needs packages/plots built (`pnpm build`; the root
 * `pnpm test` builds first). Installs offline from the pnpm store when it can.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Draws the same line chart with and without a title and counts dark pixels in the band above the plot area. */
const PROGRAM = `import { PNG } from 'pngjs';
import { lineChart } from '@tfjs-diffusion/plots/node';

const x = [0, 1, 2, 3];
const draw = (title) => lineChart([{ x, y: [3, 1, 2, 0] }], { width: 200, height: 100, ...(title ? { title } : {}) });
const titleInk = (chart) => {
  const png = PNG.sync.read(chart.toPng());
  let ink = 0;
  for (let y = 0; y < chart.padding.top - 4; y += 1)
    for (let column = 0; column < png.width; column += 1) {
      const offset = (y * png.width + column) * 4;
      if (png.data[offset] + png.data[offset + 1] + png.data[offset + 2] < 300) ink += 1;
    }
  return { width: png.width, height: png.height, ink };
};
console.log(JSON.stringify({ titled: titleInk(draw('Packed plots')), untitled: titleInk(draw()) }));
`;

function run(command: string, args: readonly string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${failure.stdout ?? ''}${failure.stderr ?? ''}\n${failure.message}`);
  }
}

describe('@tfjs-diffusion/plots installed from its tarball', () => {
  let work = '';
  let project = '';

  beforeAll(() => {
    const built = join(root, 'packages', 'plots', 'dist', 'node.js');
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm build\` first (the root \`pnpm test\` does)`);
    work = mkdtempSync(join(tmpdir(), 'tfjs-diffusion-plots-tarball-'));
    const tarballs = join(work, 'tarballs');
    project = join(work, 'project');
    run('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', 'plots'));
    const tarball = readdirSync(tarballs).find((entry) => entry.startsWith('tfjs-diffusion-plots-') && entry.endsWith('.tgz'));
    if (!tarball) throw new Error(`no plots tarball in ${tarballs}`);
    mkdirSync(project);
    const dependencies = { '@tfjs-diffusion/plots': `file:${join(tarballs, tarball)}`, pngjs: '^7.0.0' };
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'plots-consumer', private: true, type: 'module', dependencies }, null, 2));
    const install = ['install', '--ignore-workspace', '--config.auto-install-peers=false'];
    try {
      // offline from the pnpm store that installed this workspace (seconds, no network)
      run('pnpm', [...install, '--offline'], project);
    } catch {
      run('pnpm', [...install, '--prefer-offline'], project);
    }
    writeFileSync(join(project, 'main.mjs'), PROGRAM);
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('draws a title with the bundled font, at the chart size', () => {
    const result = JSON.parse(run(process.execPath, ['main.mjs'], project).trim()) as Record<string, { width: number; height: number; ink: number }>;
    const titled = result['titled'] as { width: number; height: number; ink: number };
    // a 200 x 100 plot area plus the padding without a legend (64 + 24, 36 + 48)
    expect([titled.width, titled.height]).toEqual([288, 184]);
    expect(result['untitled']?.ink).toBe(0);
    expect(titled.ink).toBeGreaterThan(40);
  });
});
