import { existsSync } from 'node:fs';

import * as tf from '@tensorflow/tfjs-core';
import { SWIFTSHADER_ICD_PATH, selectBackend } from '@tfjs-diffusion/backends/node';
import { afterAll, beforeAll, describe } from 'vitest';

/** The backends every conformance test runs on, in this order (cpu first: it is the reference). */
export const CONFORMANCE_BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
export type ConformanceBackend = (typeof CONFORMANCE_BACKENDS)[number];

/** What a test block knows about the backend it runs on. */
export interface BackendContext {
  readonly name: ConformanceBackend;
  /** True on webgpu: tensors must be read with `await data()` (no dataSync in Node). */
  readonly asyncReadsOnly: boolean;
}

/**
 * Why a backend's block is skipped, or null when it runs. CONFORMANCE_BACKENDS=cpu,wasm (a comma
 * list) limits the backends; webgpu in Node without a GPU needs SwiftShader from the chromium package.
 */
export function skipReason(name: ConformanceBackend): string | null {
  const only = process.env['CONFORMANCE_BACKENDS'];
  if (only !== undefined && only.trim() !== '') {
    const chosen = only.split(',').map((entry) => entry.trim().toLowerCase());
    if (!chosen.includes(name)) return `CONFORMANCE_BACKENDS=${only} leaves ${name} out`;
  }
  if (name === 'webgpu') {
    const userDriver = process.env['VK_ICD_FILENAMES'];
    if (!existsSync(SWIFTSHADER_ICD_PATH) && (userDriver === undefined || userDriver === '') && process.env['CONFORMANCE_WEBGPU'] !== '1') {
      return (
        `${SWIFTSHADER_ICD_PATH} is absent (apt-get install -y chromium provides SwiftShader); ` +
        'set VK_ICD_FILENAMES to a Vulkan driver manifest, or CONFORMANCE_WEBGPU=1 on a machine with a GPU'
      );
    }
  }
  return null;
}

const reported = new Set<string>();

/**
 * Runs the same tests once per backend (tfjs's describeWithFlags idea): one `describe` block per
 * backend in CONFORMANCE_BACKENDS order; its beforeAll makes the backend active (selectBackend
 * registers each backend package, and its training kernels, once). A backend that cannot run here
 * gets a skipped block and a printed reason.
 */
export function describeOnBackends(name: string, body: (backend: BackendContext) => void, options: DescribeOnBackendsOptions = {}): void {
  for (const backend of CONFORMANCE_BACKENDS) {
    const reason = skipReason(backend);
    const title = `${name} [${backend}]`;
    if (reason !== null) {
      if (!reported.has(backend)) {
        reported.add(backend);
        console.log(`conformance: skipping the ${backend} blocks: ${reason}`);
      }
      describe.skip(title, () => body({ name: backend, asyncReadsOnly: backend === 'webgpu' }));
      continue;
    }
    describe(title, () => {
      let savedFlags: Record<string, number | boolean> | null = null;
      beforeAll(async () => {
        await useBackend(backend);
        if (backend === 'webgpu' && options.batchedSubmits === true && webgpuOnSoftware === true) {
          savedFlags = Object.fromEntries(Object.keys(SWIFTSHADER_SUBMIT_FLAGS).map((flag) => [flag, tf.env().get(flag) as number | boolean]));
          setFlags(SWIFTSHADER_SUBMIT_FLAGS);
        }
      });
      afterAll(() => {
        if (savedFlags !== null) setFlags(savedFlags);
      });
      body({ name: backend, asyncReadsOnly: backend === 'webgpu' });
    });
  }
}

/**
 * tfjs-backend-webgpu flags that pick barrier-free, small-workgroup kernels (one thread per output
 * for matMul, the naive conv2d). On SwiftShader, a CPU emulation, tfjs's default tiled kernels are
 * 10-50x slower (a tiny U-Net training step: seconds instead of ~0.3 s), so the suite uses these
 * there, and checks tfjs's default kernels in the U-Net parity test. CONFORMANCE_WEBGPU_DEFAULT_KERNELS=1
 * keeps the defaults everywhere. On a real GPU the defaults are kept.
 */
export const SWIFTSHADER_KERNEL_FLAGS: Readonly<Record<string, number | boolean>> = {
  WEBGPU_MATMUL_PROGRAM_TYPE: 2, // MatMulProgramType.MatMulSmallOutputSizeProgram
  WEBGPU_USE_NAIVE_CONV2D_DEBUG: true,
};

/**
 * One queue submit per 1000 dispatches instead of tfjs's 15: each submit costs SwiftShader ~10 ms
 * (an MLP training step: 35 ms instead of 240 ms). Opt-in per file (describeOnBackends'
 * `batchedSubmits`), not for training: a dispatch with an invalid pipeline (tfjs-backend-webgpu's
 * AddN with > 7 inputs, which training's globalNorm makes) drops its whole command buffer, and with
 * 1000 dispatches per buffer that is the whole training step (training then diverges to NaN).
 */
export const SWIFTSHADER_SUBMIT_FLAGS: Readonly<Record<string, number | boolean>> = {
  WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE: 1000,
};

/** Options of describeOnBackends. */
export interface DescribeOnBackendsOptions {
  /** On SwiftShader, submit webgpu work in batches of 1000 dispatches (SWIFTSHADER_SUBMIT_FLAGS). */
  readonly batchedSubmits?: boolean;
}

let webgpuOnSoftware: boolean | null = null;
let defaultWebgpuFlags: Record<string, number | boolean> | null = null;

/** True once webgpu started on SwiftShader (null before it started). */
export function isWebgpuOnSoftware(): boolean | null {
  return webgpuOnSoftware;
}

/** True while the webgpu kernels are switched to SWIFTSHADER_KERNEL_FLAGS. */
export function usesSwiftShaderKernels(): boolean {
  return defaultWebgpuFlags !== null;
}

function setFlags(flags: Readonly<Record<string, number | boolean>>): void {
  for (const [flag, value] of Object.entries(flags)) tf.env().set(flag, value);
}

/** Makes `name` the active backend (registering it on first use). */
export async function useBackend(name: ConformanceBackend): Promise<void> {
  if (tf.getBackend() === name) return;
  const choice = await selectBackend(name);
  if (choice.active !== name) throw new Error(`selectBackend('${name}') activated '${choice.active}'`);
  if (!reported.has(`started:${name}`)) {
    reported.add(`started:${name}`);
    if (name === 'webgpu') {
      webgpuOnSoftware = /swiftshader/i.test(choice.reason);
      if (webgpuOnSoftware && process.env['CONFORMANCE_WEBGPU_DEFAULT_KERNELS'] !== '1') {
        defaultWebgpuFlags = Object.fromEntries(Object.keys(SWIFTSHADER_KERNEL_FLAGS).map((flag) => [flag, tf.env().get(flag) as number | boolean]));
        setFlags(SWIFTSHADER_KERNEL_FLAGS);
      }
    }
    const flags = usesSwiftShaderKernels() && name === 'webgpu' ? `; kernel flags ${JSON.stringify(SWIFTSHADER_KERNEL_FLAGS)}` : '';
    console.log(`conformance: ${choice.reason}${flags}`);
  }
}

/** Runs `action` with tfjs-backend-webgpu's default kernel choice (a no-op switch when they are in use). */
export async function withDefaultWebgpuKernels<Result>(action: () => Promise<Result>): Promise<Result> {
  const saved = defaultWebgpuFlags;
  if (saved === null) return action();
  setFlags(saved);
  try {
    return await action();
  } finally {
    setFlags(SWIFTSHADER_KERNEL_FLAGS);
  }
}

/**
 * Runs `action` with another backend active and switches back afterwards. Tensors must not cross:
 * `action` returns host data only (a tensor left on webgpu could not be read synchronously).
 */
export async function withBackend<Result>(name: ConformanceBackend, action: () => Promise<Result>): Promise<Result> {
  const previous = tf.getBackend() as ConformanceBackend;
  await useBackend(name);
  try {
    return await action();
  } finally {
    await useBackend(previous);
  }
}

/** The values of a tensor, read asynchronously (works on every backend), then disposed. */
export async function readAndDispose(tensor: tf.Tensor): Promise<Float32Array> {
  try {
    return Float32Array.from(await tensor.data());
  } finally {
    tensor.dispose();
  }
}

/** The value of a scalar, read asynchronously, then disposed. */
export async function scalarAndDispose(tensor: tf.Tensor): Promise<number> {
  return (await readAndDispose(tensor))[0] as number;
}

/** max_i |a_i - b_i|; throws when the lengths differ or a value is not finite. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDifference: lengths ${a.length} and ${b.length} differ`);
  let largest = 0;
  for (let index = 0; index < a.length; index += 1) {
    const difference = Math.abs((a[index] as number) - (b[index] as number));
    if (!Number.isFinite(difference)) throw new Error(`maxAbsDifference: non-finite value at ${index}: ${a[index]} vs ${b[index]}`);
    largest = Math.max(largest, difference);
  }
  return largest;
}

/** max_i |a_i|, to state the scale a difference is measured against. */
export function maxAbs(values: ArrayLike<number>): number {
  let largest = 0;
  for (let index = 0; index < values.length; index += 1) largest = Math.max(largest, Math.abs(values[index] as number));
  return largest;
}

/** Bytes the backend holds: numBytes for all, plus numBytesInGPU on webgpu (undefined elsewhere). */
export function memorySnapshot(): { numTensors: number; numBytes: number; numBytesInGPU?: number } {
  const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
  return {
    numTensors: memory.numTensors,
    numBytes: memory.numBytes,
    ...(memory.numBytesInGPU === undefined ? {} : { numBytesInGPU: memory.numBytesInGPU }),
  };
}

/** One measured value against the tolerance a test allows, printed as one line. */
export function reportMeasurement(test: string, backend: ConformanceBackend, measured: number, tolerance: number, unit = 'max abs difference'): void {
  console.log(`conformance: ${test} [${backend}]: ${unit} ${measured.toExponential(2)} (tolerance ${tolerance.toExponential(0)})`);
}
