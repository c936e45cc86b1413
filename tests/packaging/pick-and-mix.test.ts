/**
 * Pick and mix: four packages, packed as npm would receive them (`pnpm pack` rewrites workspace:^ to
 * real versions), installed on their own into a project outside the workspace together with
 * tfjs-core and the cpu backend, then used from TypeScript: a tiny U-Net from networks, a schedule
 * from schedules, DDIM from samplers. Checks that the published tarballs hold everything they need
 * (files, exports, types, dependencies) without the rest of the monorepo. Needs the packages built
 * (`pnpm build`; the root `pnpm test` builds first). Installs offline from the pnpm store when it can.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
      const files = execFileSync('find', ['.', '-name', '*.test.*'], {
        cwd: join(project, 'node_modules', '@tfjs-diffusion', name),
        encoding: 'utf8',
      });
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

/** Runs a command without blocking the test worker (long runs otherwise time out vitest's RPC); on failure, throws with its output. */
async function runAsync(command: string, args: readonly string[], cwd: string): Promise<string> {
  try {
    return (await promisify(execFile)(command, [...args], { cwd, encoding: 'utf8', timeout: 120_000 })).stdout;
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${failure.stdout ?? ''}${failure.stderr ?? ''}\n${failure.message}`);
  }
}

/** The packages the getting-started snippet needs: pipelines and everything it depends on. */
const PIPELINE_PACKAGES = ['core', 'schedules', 'samplers', 'networks', 'guidance', 'checkpoints', 'pipelines'] as const;

/** The ```js getting-started block of docs/getting-started.md, exactly as the page shows it. */
function gettingStartedSnippet(): string {
  const page = readFileSync(join(root, 'docs', 'getting-started.md'), 'utf8');
  const match = /```js getting-started\n([\s\S]*?)```/.exec(page);
  if (!match) throw new Error('docs/getting-started.md has no ```js getting-started block');
  return match[1] as string;
}

describe('getting started: the docs snippet, with only the pipelines tarballs installed', () => {
  let work = '';
  let project = '';

  beforeAll(async () => {
    for (const name of PIPELINE_PACKAGES) {
      const built = join(root, 'packages', name, 'dist', 'index.js');
      if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm build\` first (the root \`pnpm test\` does)`);
    }
    work = mkdtempSync(join(tmpdir(), 'tfjs-diffusion-getting-started-'));
    const tarballs = join(work, 'tarballs');
    project = join(work, 'project');
    for (const name of PIPELINE_PACKAGES) await runAsync('pnpm', ['pack', '--pack-destination', tarballs], join(root, 'packages', name));
    const tarballOf = (name: string): string => {
      const file = readdirSync(tarballs).find((entry) => entry.startsWith(`tfjs-diffusion-${name}-`) && entry.endsWith('.tgz'));
      if (!file) throw new Error(`no tarball for ${name} in ${tarballs}`);
      return `file:${join(tarballs, file)}`;
    };
    const packed = Object.fromEntries(PIPELINE_PACKAGES.map((name) => [`@tfjs-diffusion/${name}`, tarballOf(name)]));
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'getting-started-consumer',
        private: true,
        type: 'module',
        // what the page says to install; the other tarballs stand in for the registry's versions
        dependencies: {
          '@tfjs-diffusion/pipelines': packed['@tfjs-diffusion/pipelines'],
          '@tensorflow/tfjs-core': TFJS_VERSION,
          '@tensorflow/tfjs-backend-wasm': TFJS_VERSION,
        },
        pnpm: { overrides: packed },
      }),
    );
    const install = ['install', '--ignore-workspace', '--config.auto-install-peers=false', '--config.strict-peer-dependencies=false'];
    try {
      await promisify(execFile)('pnpm', [...install, '--offline'], { cwd: project, timeout: 120_000 });
    } catch {
      await runAsync('pnpm', [...install, '--prefer-offline'], project);
    }
    symlinkSync(join(root, 'models'), join(project, 'models'));
    // the snippet as the page shows it, plus one line handing the images to this test
    writeFileSync(
      join(project, 'threes.mjs'),
      `${gettingStartedSnippet()}writeFileSync('images.json', JSON.stringify({ shape: images.shape, values: Array.from(await images.data()) }));\n`,
    );
  }, 240_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('draws eight images that the shipped evaluation classifier reads as 3, and prints what the page says', async () => {
    // asynchronously, so the test worker stays responsive while the snippet samples
    const { stdout: output } = await promisify(execFile)(process.execPath, ['threes.mjs'], { cwd: project, encoding: 'utf8', timeout: 240_000 });
    const page = readFileSync(join(root, 'docs', 'getting-started.md'), 'utf8');
    const printed = output.trim().split('\n').at(-1) as string;
    expect(page).toContain(`It prints \`${printed}\``);
    expect(readFileSync(join(project, 'threes.png')).subarray(1, 4).toString('latin1')).toBe('PNG');
    const { shape, values } = JSON.parse(readFileSync(join(project, 'images.json'), 'utf8')) as { shape: number[]; values: number[] };
    expect(shape).toEqual([8, 28, 28, 1]);
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    await tf.setBackend('cpu');
    const { loadEvaluationClassifier } = await import('../../packages/evaluation/src/node.js');
    const classifier = await loadEvaluationClassifier(join(root, 'models', 'mnist-evaluation-classifier.safetensors'));
    const logits = classifier.logits({ x: tf.tensor4d(values, [8, 28, 28, 1]) });
    const predicted = Array.from(await tf.argMax(logits, 1).data());
    classifier.dispose();
    expect(predicted).toEqual([3, 3, 3, 3, 3, 3, 3, 3]);
  }, 300_000);
});
