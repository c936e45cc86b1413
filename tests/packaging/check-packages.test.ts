import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('publishable packages', () => {
  // publint --strict and attw (esm-only profile) on the tarball of every public package; needs the
  // packages built, which the root `pnpm test` does first (turbo run build).
  it('pass publint and @arethetypeswrong/cli', async () => {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['scripts/check-packages.mjs'], { cwd: root, maxBuffer: 1 << 24 }).catch(
      (error: { stdout: string; stderr: string; code: number }) => {
        throw new Error(`check-packages exited ${error.code}:\n${error.stdout}\n${error.stderr}`);
      },
    );
    const report = `${stdout}\n${stderr}`;
    for (const name of [
      'core',
      'schedules',
      'samplers',
      'objectives',
      'networks',
      'guidance',
      'data',
      'training',
      'backends',
      'checkpoints',
      'parallel',
      'pipelines',
    ]) {
      expect(report, name).toContain(`@tfjs-diffusion/${name}`);
    }
  }, 300_000);
});
