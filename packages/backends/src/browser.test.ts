import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import '@tfjs-diffusion/core/register-gradients';
import { DiffusionError } from '@tfjs-diffusion/core';
import { afterEach, describe, expect, it } from 'vitest';

import { hasTrainingKernels, selectBackend, summariseAdapter } from './index.js';

const SOURCE = dirname(fileURLToPath(import.meta.url));

/** Every module the file imports, following relative imports (type-only imports included). */
function importGraph(entry: string): { files: Set<string>; specifiers: Set<string> } {
  const files = new Set<string>();
  const specifiers = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    // code only: doc comments show imports in examples
    const text = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const match of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm)) {
      const specifier = (match[1] ?? match[2]) as string;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else specifiers.add(specifier);
    }
  };
  visit(entry);
  return { files, specifiers };
}

/** A fake navigator.gpu whose only adapter has `info`. */
function installFakeGpu(info: Record<string, unknown>): void {
  const adapter = { info, features: new Set<string>(), limits: {}, requestDevice: () => Promise.reject(new Error('fake adapter')) };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => adapter } }, configurable: true, writable: true });
}

describe('the browser-safe entry', () => {
  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'navigator');
  });

  it('imports nothing from Node, native code or Dawn', () => {
    const { files, specifiers } = importGraph(join(SOURCE, 'index.ts'));
    const names = [...files].map((file) => file.slice(SOURCE.length + 1)).sort();
    expect(names).toContain('browser.ts');
    expect(names).toContain('conv2d-backprop-filter.ts');
    expect(names).toContain('unsorted-segment-sum.ts');
    for (const nodeOnly of ['native-kernels.ts', 'webgpu-node.ts', 'select-backend.ts', 'training-kernels.ts', 'node.ts'])
      expect(names).not.toContain(nodeOnly);
    expect([...specifiers].sort()).toEqual(['@tensorflow/tfjs-core', '@tfjs-diffusion/core']);
  });

  it('the node entry adds the native kernels and Dawn', () => {
    const names = [...importGraph(join(SOURCE, 'node.ts')).files].map((file) => file.slice(SOURCE.length + 1));
    expect(names).toEqual(expect.arrayContaining(['native-kernels.ts', 'webgpu-node.ts', 'select-backend.ts', 'index.ts']));
  });

  it('tells software WebGPU adapters from hardware ones', () => {
    expect(summariseAdapter({ info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' } })).toEqual({
      name: 'google swiftshader (SwiftShader driver 5.0.0)',
      software: true,
      softwareBecause: 'its info names swiftshader, a CPU emulation',
    });
    expect(summariseAdapter({ info: { vendor: 'intel', architecture: 'gen-12lp' }, isFallbackAdapter: true })).toMatchObject({
      software: true,
      softwareBecause: 'isFallbackAdapter is set',
    });
    expect(summariseAdapter({ info: { vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }).software).toBe(true);
    expect(summariseAdapter({ info: { vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA A100' } })).toEqual({
      name: 'nvidia ampere (NVIDIA A100)',
      software: false,
      softwareBecause: '',
    });
  });

  it("'auto' passes over a SwiftShader adapter, says so, and lands on wasm with the training kernels, through the given loader", async () => {
    installFakeGpu({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true });
    let wasmLoads = 0;
    const choice = await selectBackend('auto', {
      loaders: {
        wasm: () => {
          wasmLoads += 1;
          return import('@tensorflow/tfjs-backend-wasm');
        },
      },
    });
    expect(choice.active).toBe('wasm');
    expect(wasmLoads).toBeGreaterThanOrEqual(1);
    expect(choice.webgpuAdapter).toMatchObject({ name: 'google swiftshader', software: true });
    expect(choice.reason).toMatch(/^auto chose 'wasm': tfjs-backend-wasm .*training kernels registered: .*UnsortedSegmentSum/);
    expect(choice.reason).toContain(
      'tried first: webgpu: the WebGPU adapter is google swiftshader, a software adapter (isFallbackAdapter is set and its info names swiftshader, a CPU emulation), far slower than wasm: auto never picks one',
    );
    expect(choice.reason).not.toContain('native');
    expect(hasTrainingKernels('wasm')).toBe(true);
    // the label embedding's gradient (UnsortedSegmentSum), which tfjs-backend-wasm lacks
    const gradient = tf.tidy(() =>
      tf
        .grad((table: tf.Tensor) => tf.sum(tf.gather(table, tf.tensor1d([0, 2, 2], 'int32'))))(tf.ones([3, 2]))
        .arraySync(),
    );
    expect(gradient).toEqual([
      [1, 1],
      [0, 0],
      [2, 2],
    ]);
  });

  it("'webgpu' by name with software WebGPU turned off refuses the adapter", async () => {
    installFakeGpu({ vendor: 'google', architecture: 'swiftshader' });
    const error = await selectBackend('webgpu', { softwareWebgpu: false }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiffusionError);
    expect((error as DiffusionError).code).toBe('backend-unavailable');
    expect((error as DiffusionError).message).toContain('software WebGPU is turned off (softwareWebgpu: false)');
  });

  it("points Node users at the node entry for 'tensorflow'", async () => {
    const error = await selectBackend('tensorflow').catch((caught: unknown) => caught);
    expect((error as DiffusionError).message).toContain("'@tfjs-diffusion/backends/node'");
  });
});
