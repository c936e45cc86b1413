/**
 * Pick and mix: four packages, packed as npm would receive them (`pnpm pack` rewrites workspace:^ to
 * real versions), installed on their own into a project outside the workspace together with
 * tfjs-core and the cpu backend, then used from TypeScript: a tiny U-Net from networks, a schedule
 * from schedules, DDIM from samplers. Checks that the published tarballs hold everything they need
 * (files, exports, types, dependencies) without the rest of the monorepo. Needs the packages built
 * (`pnpm build`; the root `pnpm test` builds first). Installs offline from the pnpm store when it can.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PICKED = ['core', 'schedules', 'samplers', 'networks'] as const;
const TFJS_VERSION = '4.22.0';

/** The consumer's program: only the four packed packages, tfjs-core and the cpu backend. */
const PROGRAM = `import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createNoiseSource, samplingSteps, type SamplerStepEvent } from '@tfjs-diffusion/core';
import { createUNet } from '@tfjs-diffusion/networks';
import { sampleDdim } from '@tfjs-diffusion/samplers';
import { createSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';

await tf.setBackend('cpu');
const model = createUNet({
  imageSize: 8, inChannels: 1, modelChannels: 8, channelMultipliers: [1, 2], numResBlocks: 1,
  attentionResolutions: [4], numHeads: 2, groupNormGroups: 4, seed: 3,
});
const schedule = respaceSchedule(createSchedule({ kind: 'cosine', timesteps: 100 }), 'ddim4');
const before = tf.memory().numTensors;
const events: number[] = [];
const samples = await sampleDdim({
  model, schedule, shape: [2, 8, 8, 1], noise: createNoiseSource(7), eta: 0.5,
  onStep: (event: SamplerStepEvent) => { events.push(event.timestep); },
});
const values = Array.from(await samples.data());
samples.dispose();
console.log(JSON.stringify({
  backend: tf.getBackend(),
  shape: [2, 8, 8, 1],
  sampleShape: samples.shape,
  finite: values.every(Number.isFinite),
  spread: Math.max(...values) - Math.min(...values),
  steps: samplingSteps(schedule).length,
  events,
  leaked: tf.memory().numTensors - before,
}));
model.dispose();
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: true,
    types: [],
    lib: ['ES2022', 'DOM'],
    outDir: 'dist',
  },
  files: ['main.ts'],
};

function run(command: string, args: readonly string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

/** Runs a command; on failure, throws with its output so the test report shows why. */
function runOrExplain(command: string, args: readonly string[], cwd: string): string {
  try {
    return run(command, args, cwd);
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${failure.stdout ?? ''}${failure.stderr ?? ''}\n${failure.message}`);
  }
}

describe('pick and mix: core, schedules, samplers and networks installed from their tarballs', () => {
  let work = '';
  let project = '';

  beforeAll(() => {
    for (const name of PICKED) {
      const built = join(root, 'packages', name, 'dist', 'index.js');
      if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm build\` first (the root \`pnpm test\` does)`);
    }
    work = mkdtempSync(join(tmpdir(), 'tfjs-diffusion-pick-and-mix-'));
    const tarballs = join(work, 'tarballs');
    project = join(work, 'project');
    for (const name of PICKED) runOrExplain('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', name));
    const tarballOf = (name: string): string => {
      const file = readdirSync(tarballs).find((entry) => entry.startsWith(`tfjs-diffusion-${name}-`) && entry.endsWith('.tgz'));
      if (!file) throw new Error(`no tarball for ${name} in ${tarballs}`);
      return `file:${join(tarballs, file)}`;
    };
    const picked = Object.fromEntries(PICKED.map((name) => [`@tfjs-diffusion/${name}`, tarballOf(name)]));
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify(
        {
          name: 'pick-and-mix-consumer',
          private: true,
          type: 'module',
          dependencies: { ...picked, '@tensorflow/tfjs-core': TFJS_VERSION, '@tensorflow/tfjs-backend-cpu': TFJS_VERSION },
          // the tarballs' own '@tfjs-diffusion/core: ^0.1.0' must resolve to the packed core, not the registry
          pnpm: { overrides: { '@tfjs-diffusion/core': picked['@tfjs-diffusion/core'] } },
        },
        null,
        2,
      ),
    );
    const install = ['install', '--ignore-workspace', '--config.auto-install-peers=false', '--config.strict-peer-dependencies=false'];
    try {
      // offline from the pnpm store that installed this workspace (seconds, no network)
      run('pnpm', [...install, '--offline'], project);
    } catch {
      runOrExplain('pnpm', [...install, '--prefer-offline'], project);
    }
    writeFileSync(join(project, 'main.ts'), PROGRAM);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs only the picked packages, with workspace:^ rewritten and no test files', () => {
    const installed = readdirSync(join(project, 'node_modules', '@tfjs-diffusion')).sort();
    expect(installed).toEqual([...PICKED].sort());
    for (const name of PICKED) {
      const manifest = JSON.parse(readFileSync(join(project, 'node_modules', '@tfjs-diffusion', name, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
        expect(range, `${name} depends on ${dependency}@${range}`).not.toMatch(/^workspace:/);
      }
      const files = execFileSync('find', ['.', '-name', '*.test.*'], { cwd: join(project, 'node_modules', '@tfjs-diffusion', name), encoding: 'utf8' });
      expect(files.trim(), `${name} ships test files`).toBe('');
    }
  });

  it('type-checks a consumer against the published declarations and samples with DDIM on cpu', () => {
    const typescript = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    runOrExplain(process.execPath, [typescript, '-p', 'tsconfig.json'], project);
    const output = runOrExplain(process.execPath, ['dist/main.js'], project);
    const result = JSON.parse(output.trim().split('\n').at(-1) as string) as {
      backend: string;
      sampleShape: number[];
      finite: boolean;
      spread: number;
      steps: number;
      events: number[];
      leaked: number;
    };
    expect(result.backend).toBe('cpu');
    expect(result.sampleShape).toEqual([2, 8, 8, 1]);
    expect(result.finite).toBe(true);
    expect(result.spread).toBeGreaterThan(0);
    expect(result.steps).toBe(4);
    expect(result.events).toHaveLength(4);
    expect(result.leaked).toBe(0);
  });
});
