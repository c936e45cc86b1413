/**
 * Runs the swap-backends guide's program exactly as the guide says (`node
 * examples/swap-backends/src/compare-backends.mjs` from the repository root), so the guide cannot
 * drift from a program that works. Node resolves the packages to their built dist/, so this needs
 * `pnpm build` first (the root `pnpm test` builds first).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const PROGRAM = 'examples/swap-backends/src/compare-backends.mjs';

describe('docs/guides/swap-backends.md', () => {
  it('names this program and shows it verbatim', () => {
    const guide = readFileSync(`${root}/docs/guides/swap-backends.md`, 'utf8');
    expect(guide).toContain(`node ${PROGRAM}`);
    const program = readFileSync(`${root}/${PROGRAM}`, 'utf8');
    const body = program.slice(program.indexOf('import { selectBackend }'));
    expect(guide).toContain(body.trim());
  });

  it('runs: the same seed gives the same samples on wasm as on cpu (and on WebGPU when it starts)', async () => {
    // SwiftShader's Vulkan driver when there is no GPU (Debian's chromium package ships it).
    const env = { ...process.env, VK_ICD_FILENAMES: process.env['VK_ICD_FILENAMES'] ?? '/usr/lib/chromium/vk_swiftshader_icd.json' };
    const { stdout } = await promisify(execFile)(process.execPath, [PROGRAM], { cwd: root, env, maxBuffer: 1 << 22, timeout: 120_000 });
    const wasm = /^wasm vs cpu: largest difference (\S+)$/m.exec(stdout);
    expect(wasm, stdout).not.toBeNull();
    expect(Number(wasm![1])).toBeLessThan(1e-4);
    const webgpu = /^webgpu vs cpu: largest difference (\S+)$/m.exec(stdout);
    if (webgpu) expect(Number(webgpu[1])).toBeLessThan(1e-3);
    else expect(stdout).toMatch(/^webgpu: skipped \(/m);
  }, 150_000);
});
