import {
  BatchMatMul,
  Concat,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  FusedConv2D,
  Sigmoid,
  ResizeNearestNeighbor,
  Slice,
  Softmax,
  SplitV,
  Sum,
  backend_util,
  slice_util,
  engine,
  getGradient,
  registerGradient,
  util,
  type NamedTensorMap,
  type Tensor,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';

import { describeError, importAtRuntime, isNode } from './runtime.js';

/** The Node-API addon built from native/kernels.c (im2col + OpenBLAS SGEMM). */
export interface NativeAddon {
  /** out = act(conv(x, filter) + bias), or (conv(x, filter) + bias) + residual (activation 0 only). */
  conv2d(
    x: Float32Array,
    filter: Float32Array,
    bias: Float32Array | null,
    out: Float32Array,
    geometry: Int32Array,
    activation: number,
    residual?: Float32Array | null,
  ): void;
  conv2dBackpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: Int32Array): void;
  conv2dBackpropInput(dy: Float32Array, filter: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  batchMatMul(a: Float32Array, b: Float32Array, out: Float32Array, parameters: Int32Array): void;
  sum(x: Float32Array, out: Float32Array, parameters: Int32Array): void;
  copyRows(source: Float32Array, destination: Float32Array, parameters: Int32Array): void;
  /** Nearest-neighbour upsampling of NHWC rows by integer factors; parameters [batch * height, width, channels, factorHeight, factorWidth]. */
  upsampleNearest(source: Float32Array, destination: Float32Array, parameters: Int32Array): void;
  sigmoid(x: Float32Array, out: Float32Array): void;
  /** Softmax over contiguous rows; parameters [rows, length] (AVX-512 only). */
  softmax(x: Float32Array, out: Float32Array, parameters: Int32Array): void;
  /** GroupNorm + scale/shift + optional SiLU; parameters [batch, pixels, channels, groups, gammaPerImage, betaPerImage, activation]. */
  groupNorm(x: Float32Array, gamma: Float32Array, beta: Float32Array, out: Float32Array, parameters: Int32Array, epsilon: number): void;
  /** groupNorm's gradient for dy: dx, and dgamma, dbeta in gamma's and beta's shapes (same parameters). */
  groupNormGrad(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    parameters: Int32Array,
    epsilon: number,
  ): void;
  /** The calling thread's CPU time in seconds (CLOCK_THREAD_CPUTIME_ID). */
  threadCpuSeconds(): number;
  /** One core's float32 FMA peak in FLOP/s (AVX-512, per second of thread CPU time); 0 without AVX-512F. */
  fmaPeak(seconds: number): number;
  setChunk(floats: number): number;
  /** Whether forward convolutions with Cout % 16 == 0 read their input in place instead of through an im2col buffer (the same bits; on by default); returns the previous setting. */
  setDirect(on: boolean): boolean;
  /** The filter bytes a block of taps of the direct convolution may hold (default 384 KiB; the results do not depend on it); returns the previous value. */
  setDirectBlock(bytes: number): number;
  /** Whether 3x3 stride-1 convolutions with Cin and Cout multiples of 16 take the Winograd F(2x2, 3x3) path (on by default with AVX-512F; within float32 rounding of the direct path, not its bits); returns the previous setting. */
  setWinograd(on: boolean): boolean;
  /** The most bytes of Winograd-transformed filters (with the copies they are checked against) each thread keeps between calls (default 64 MiB; 0 keeps none and frees the calling thread's); returns the previous limit. */
  setWinogradCache(bytes: number): number;
  /** Opens the first OpenBLAS of `libraries` that loads (once per process); returns '' or why none did. */
  load(libraries: readonly string[], threads: number, coretype?: string): string;
  /** OpenBLAS threads for the process, and the addon's own kernel threads (OpenMP) for the calling thread; returns OpenBLAS's count. */
  setThreads(threads: number): number;
  /** Whether the addon's own AVX-512 SGEMM replaces OpenBLAS's where it applies (only on CPUs with AVX-512F). */
  useOwnGemm(on: boolean): boolean;
  info(): { blas: string; core: string; threads: number; avx512Gemm: boolean };
}

/** OpenBLAS shared libraries tried in order (as native/openblas-libraries.mjs); $TFJS_DIFFUSION_OPENBLAS first. */
export function openblasLibraries(): string[] {
  const explicit = environment(NATIVE_ENVIRONMENT.openblas);
  return [
    ...(explicit ? [explicit] : []),
    'libopenblas.so.0',
    'libopenblas.so',
    'libopenblasp.so.0',
    'libopenblas.dylib',
    '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
    '/usr/local/opt/openblas/lib/libopenblas.dylib',
  ];
}

/** Whether the native kernels loaded, and why not when they did not. */
export type NativeKernelStatus =
  | {
      readonly available: true;
      readonly addon: NativeAddon;
      readonly description: string;
      readonly path: string;
      readonly kernels: readonly string[];
    }
  | { readonly available: false; readonly reason: string };

/**
 * A convolution with its residual connection (not a tfjs kernel: @tfjs-diffusion/networks calls it by
 * this name for a residual block's last convolution when the active backend has it and no gradient
 * is recorded). Inputs x [B, H, W, Cin], filter [kh, kw, Cin, Cout], bias [Cout] (optional) and
 * residual (the output's shape), all float32; attributes strides, pad, dilations, dimRoundingMode as
 * Conv2D's (NHWC); output (conv2d(x, filter) + bias) + residual, added while each output tile is in
 * registers (the bits of tf.add(residual, tf.fused.conv2d(...)) on the same kernels). No gradient.
 */
export const CONV2D_RESIDUAL_KERNEL_NAME = 'TfjsDiffusionConv2DResidual';

/** Kernels the native addon provides, per backend (they replace tfjs's or this package's). */
export const NATIVE_KERNEL_NAMES: readonly string[] = [
  Conv2D,
  FusedConv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  BatchMatMul,
  Sum,
  Concat,
  SplitV,
  Slice,
  ResizeNearestNeighbor,
  CONV2D_RESIDUAL_KERNEL_NAME,
];

/**
 * The fused GroupNorm kernel (not a tfjs kernel: @tfjs-diffusion/networks calls it by this name when
 * the active backend has it, and its own tf ops otherwise). Inputs x [B, H, W, C] float32, gamma and
 * beta [C] or [B, C]; attributes `groups`, `epsilon`, `activation` ('linear' | 'silu'); output
 * act((x - mean_g) / sqrt(var_g + epsilon) * gamma + beta), with per-image group statistics. An
 * optional input scaleShift [B, 2C] (AdaGN, with gamma and beta [C]) makes the coefficients
 * gamma (1 + scale) and beta (1 + scale) + shift per image; it has no gradient.
 * Its gradient (`registerGroupNormGradient`) runs GROUP_NORM_GRAD_KERNEL_NAME.
 */
export const GROUP_NORM_KERNEL_NAME = 'TfjsDiffusionGroupNorm';

/** The fused GroupNorm's gradient: inputs x, gamma, beta, dy; the same attributes; outputs [dx, dgamma, dbeta]. */
export const GROUP_NORM_GRAD_KERNEL_NAME = 'TfjsDiffusionGroupNormGrad';

/** Kernels the addon adds only on CPUs with AVX-512F (its scalar fallbacks would be slower than tfjs's). */
export const NATIVE_AVX512_KERNEL_NAMES: readonly string[] = [Sigmoid, Softmax, GROUP_NORM_KERNEL_NAME, GROUP_NORM_GRAD_KERNEL_NAME];

/**
 * Environment variables: TFJS_DIFFUSION_NATIVE=0 turns the addon off; _PATH points at another
 * build; _THREADS sets OpenBLAS threads; TFJS_DIFFUSION_OPENBLAS names the OpenBLAS library to open;
 * TFJS_DIFFUSION_OPENBLAS_CORETYPE overrides OPENBLAS_CORETYPE (OpenBLAS's kernel choice) for the
 * process; TFJS_DIFFUSION_NATIVE_GEMM=openblas keeps OpenBLAS for every product (by default the
 * addon's AVX-512 SGEMM takes the convolutions' products on CPUs with AVX-512F). OpenBLAS's own OPENBLAS_CORETYPE is otherwise respected; when unset, AMD CPUs with
 * AVX-512 get SkylakeX (OpenBLAS 0.3.21 takes Zen 4/5 for Haswell; SkylakeX's SGEMM is 1.8x faster there).
 */
export const NATIVE_ENVIRONMENT = {
  enabled: 'TFJS_DIFFUSION_NATIVE',
  path: 'TFJS_DIFFUSION_NATIVE_PATH',
  threads: 'TFJS_DIFFUSION_NATIVE_THREADS',
  openblas: 'TFJS_DIFFUSION_OPENBLAS',
  coretype: 'TFJS_DIFFUSION_OPENBLAS_CORETYPE',
  gemm: 'TFJS_DIFFUSION_NATIVE_GEMM',
} as const;

const ADDON_FILE = 'tfjs-diffusion-native.node';

// Kept on globalThis so that two copies of this module (a bundle and a workspace source) share one load.
const globalKey = Symbol.for('@tfjs-diffusion/backends:native-kernels');
type Holder = Record<symbol, Promise<NativeKernelStatus> | NativeKernelStatus | undefined>;

function environment(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

/** The status of the last `loadNativeKernels` (undefined before it finished). */
export function nativeKernelStatus(): NativeKernelStatus | undefined {
  const value = (globalThis as unknown as Holder)[globalKey];
  return value === undefined || value instanceof Promise ? undefined : value;
}

/**
 * Loads the native kernel addon (dist/native/tfjs-diffusion-native.node, built by native/build.mjs)
 * once per thread; never throws: when it is missing or fails to load, the status says why.
 * `threads`: OpenBLAS threads for the process, and the addon's own kernel threads (OpenMP) for the
 * calling thread (default $TFJS_DIFFUSION_NATIVE_THREADS, else 1 in a worker thread and all cores on
 * the main thread).
 */
export function loadNativeKernels(options: { threads?: number } = {}): Promise<NativeKernelStatus> {
  const holder = globalThis as unknown as Holder;
  const existing = holder[globalKey];
  if (existing !== undefined) return Promise.resolve(existing);
  const loading = load(options.threads).then((status) => {
    holder[globalKey] = status;
    return status;
  });
  holder[globalKey] = loading;
  return loading;
}

async function load(requestedThreads: number | undefined): Promise<NativeKernelStatus> {
  if (!isNode()) return { available: false, reason: 'not Node.js' };
  if (environment(NATIVE_ENVIRONMENT.enabled) === '0') return { available: false, reason: `${NATIVE_ENVIRONMENT.enabled}=0` };
  try {
    const { createRequire } = (await importAtRuntime('node:module')) as { createRequire(from: string): (id: string) => unknown };
    const { fileURLToPath } = (await importAtRuntime('node:url')) as { fileURLToPath(url: URL): string };
    const { existsSync } = (await importAtRuntime('node:fs')) as { existsSync(path: string): boolean };
    const { isMainThread } = (await importAtRuntime('node:worker_threads')) as { isMainThread: boolean };
    const { availableParallelism, cpus } = (await importAtRuntime('node:os')) as { availableParallelism?: () => number; cpus(): unknown[] };
    // From src/ (tests) and from dist/ alike, the build is ../dist/native/.
    const path = environment(NATIVE_ENVIRONMENT.path) ?? fileURLToPath(new URL(`../dist/native/${ADDON_FILE}`, import.meta.url));
    if (!existsSync(path)) {
      return {
        available: false,
        reason: `${path} was not built (needs gcc and libopenblas-dev; run node native/build.mjs in @tfjs-diffusion/backends)`,
      };
    }
    // The addon's OpenMP threads sleep between kernels instead of spinning (libgomp reads this when
    // the addon loads it), so they leave the cores to other work: workers, other processes.
    const environmentVariables = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    if (isMainThread && environmentVariables !== undefined && environmentVariables['OMP_WAIT_POLICY'] === undefined) {
      environmentVariables['OMP_WAIT_POLICY'] = 'PASSIVE';
    }
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    const fromEnvironment = Number.parseInt(environment(NATIVE_ENVIRONMENT.threads) ?? '', 10);
    const cores = availableParallelism?.() ?? cpus().length;
    const threads = requestedThreads ?? (Number.isInteger(fromEnvironment) && fromEnvironment > 0 ? fromEnvironment : isMainThread ? cores : 1);
    const missing = addon.load(openblasLibraries(), Math.max(1, threads), environment(NATIVE_ENVIRONMENT.coretype) ?? '');
    if (missing !== '') return { available: false, reason: `OpenBLAS could not be opened (${missing}); Debian: apt-get install libopenblas0` };
    const used = addon.setThreads(Math.max(1, threads));
    addon.useOwnGemm(environment(NATIVE_ENVIRONMENT.gemm) !== 'openblas');
    const info = addon.info();
    const blas = info.blas.split(' ').slice(0, 2).join(' ');
    const gemm = info.avx512Gemm ? 'AVX-512 SGEMM for the forward products, ' : '';
    const kernels = [...NATIVE_KERNEL_NAMES, ...(info.avx512Gemm ? NATIVE_AVX512_KERNEL_NAMES : [])];
    return { available: true, addon, path, kernels, description: `${gemm}${blas}, core ${info.core}, ${used} thread${used === 1 ? '' : 's'}` };
  } catch (error) {
    return { available: false, reason: `the addon failed to load: ${describeError(error)}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Zero-copy access to a backend's float32 arrays.

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}
interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
}

/** Reads inputs and makes outputs as Float32Arrays on the backend's own memory. */
interface FloatMemory {
  /** Allocate every output before reading any input: on wasm an allocation may grow (and detach) the heap. */
  output(shape: number[], dtype?: 'float32' | 'int32'): TensorInfo;
  /** The float32 values of a tensor (undefined for other dtypes). */
  view(info: TensorInfo): Float32Array | undefined;
  /** The 32-bit words of a float32 or int32 tensor, as a Float32Array over the same memory (for copies). */
  words(info: TensorInfo): Float32Array | undefined;
}

function asWords(array: unknown): Float32Array | undefined {
  if (array instanceof Float32Array) return array;
  if (array instanceof Int32Array) return new Float32Array(array.buffer, array.byteOffset, array.length);
  return undefined;
}

function floatMemory(backendName: string, backend: unknown): FloatMemory | undefined {
  if (backendName === 'wasm') {
    const wasm = backend as WasmBackendLike;
    if (typeof wasm.typedArrayFromHeap !== 'function' || typeof wasm.makeOutput !== 'function') return undefined;
    return {
      output: (shape, dtype = 'float32') => wasm.makeOutput(shape, dtype),
      view: (info) => {
        if (info.dtype !== 'float32') return undefined;
        const array = wasm.typedArrayFromHeap(info);
        return array instanceof Float32Array ? array : undefined;
      },
      words: (info) => (info.dtype === 'float32' || info.dtype === 'int32' ? asWords(wasm.typedArrayFromHeap(info)) : undefined),
    };
  }
  const cpu = backend as CpuBackendLike;
  if (typeof cpu.makeTensorInfo !== 'function' || typeof cpu.data?.get !== 'function') return undefined;
  return {
    output: (shape, dtype = 'float32') =>
      cpu.makeTensorInfo(
        shape,
        dtype,
        (dtype === 'int32' ? new Int32Array(util.sizeFromShape(shape)) : new Float32Array(util.sizeFromShape(shape))) as Float32Array,
      ),
    view: (info) => {
      if (info.dtype !== 'float32') return undefined;
      const values = cpu.data.get(info.dataId)?.values;
      return values instanceof Float32Array ? values : undefined;
    },
    words: (info) => (info.dtype === 'float32' || info.dtype === 'int32' ? asWords(cpu.data.get(info.dataId)?.values) : undefined),
  };
}

type Shape4 = [number, number, number, number];

function geometryOf(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.padInfo.top,
    info.padInfo.left,
    info.dilationHeight,
    info.dilationWidth,
  ]);
}

const ACTIVATIONS: Readonly<Record<string, number>> = { linear: 0, relu: 1, relu6: 2 };

interface ConvAttributes {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  leakyreluAlpha?: number;
  filterShape?: Shape4;
  inputShape?: Shape4;
}

function delegate(kernelName: string, backendName: string, replaced: KernelConfig | undefined): KernelFunc {
  return (args) => {
    if (replaced === undefined) throw new Error(`backend '${backendName}' has no ${kernelName} kernel to fall back on`);
    return replaced.kernelFunc(args);
  };
}

function keepSetup(replaced: KernelConfig | undefined): Partial<KernelConfig> {
  // wasm kernels bind their C function in setupFunc when the backend starts: keep it for the fallback.
  return replaced?.setupFunc ? { setupFunc: replaced.setupFunc } : {};
}

function isChannelsLast(dataFormat: string | undefined): boolean {
  return dataFormat === undefined || dataFormat === 'NHWC';
}

/** Conv2D and FusedConv2D (bias, linear/relu/relu6) as im2col + SGEMM; other cases go to `replaced`. */
export function nativeConv2dKernel(addon: NativeAddon, kernelName: typeof Conv2D | typeof FusedConv2D | typeof CONV2D_RESIDUAL_KERNEL_NAME) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback: KernelFunc =
      kernelName === CONV2D_RESIDUAL_KERNEL_NAME
        ? () => {
            throw new Error(`${CONV2D_RESIDUAL_KERNEL_NAME} takes float32 NHWC x, filter, bias and a residual of the output's shape`);
          }
        : delegate(kernelName, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { inputs, backend } = args;
      const attrs = args.attrs as unknown as ConvAttributes;
      const { x, filter, bias, preluActivationWeights, residual } = inputs as Record<string, TensorInfo | undefined>;
      const withResidual = kernelName === CONV2D_RESIDUAL_KERNEL_NAME;
      const memory = floatMemory(backendName, backend);
      const activation = ACTIVATIONS[attrs.activation ?? 'linear'];
      if (
        memory === undefined ||
        x === undefined ||
        filter === undefined ||
        x.shape.length !== 4 ||
        filter.shape.length !== 4 ||
        !isChannelsLast(attrs.dataFormat) ||
        activation === undefined ||
        preluActivationWeights != null ||
        x.dtype !== 'float32' ||
        filter.dtype !== 'float32'
      ) {
        return fallback(args);
      }
      const info = backend_util.computeConv2DInfo(
        x.shape as Shape4,
        filter.shape as Shape4,
        attrs.strides,
        attrs.dilations ?? 1,
        attrs.pad,
        attrs.dimRoundingMode,
        false,
        'channelsLast',
      );
      // (wasm's XNNPACK took the 1-channel stem while im2col's per-pixel copies made ours slower: 0.6 ms
      // against 1.3; the direct convolution reads the input in place, 0.24-0.31 ms)
      if (
        bias != null &&
        (bias.dtype !== 'float32' ||
          util.sizeFromShape(bias.shape) !== info.outChannels ||
          (bias.shape.length > 1 && bias.shape.slice(0, -1).some((size) => size !== 1)))
      ) {
        return fallback(args);
      }
      if (
        withResidual &&
        (residual == null || activation !== 0 || !util.arraysEqual(residual.shape, info.outShape) || residual.dtype !== 'float32')
      ) {
        return fallback(args);
      }
      const out = memory.output([...info.outShape]);
      const outValues = memory.view(out);
      const xValues = memory.view(x);
      const filterValues = memory.view(filter);
      const biasValues = bias == null ? null : memory.view(bias);
      const residualValues = withResidual && residual != null ? memory.view(residual) : null;
      if (
        outValues === undefined ||
        xValues === undefined ||
        filterValues === undefined ||
        biasValues === undefined ||
        residualValues === undefined
      ) {
        (backend as { disposeData(dataId: object): void }).disposeData(out.dataId);
        return fallback(args);
      }
      addon.conv2d(xValues, filterValues, biasValues, outValues, geometryOf(info), activation, residualValues);
      return out;
    };
    return { kernelName, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

/** Conv2DBackpropFilter: dW = im2col(x)^T dy, one SGEMM per chunk of output pixels. */
export function nativeConv2dBackpropFilterKernel(addon: NativeAddon) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback = delegate(Conv2DBackpropFilter, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { inputs, backend } = args;
      const attrs = args.attrs as unknown as ConvAttributes;
      const { x, dy } = inputs as Record<string, TensorInfo | undefined>;
      const memory = floatMemory(backendName, backend);
      if (
        memory === undefined ||
        x === undefined ||
        dy === undefined ||
        attrs.filterShape === undefined ||
        x.shape.length !== 4 ||
        !isChannelsLast(attrs.dataFormat)
      ) {
        return fallback(args);
      }
      const info = backend_util.computeConv2DInfo(
        x.shape as Shape4,
        attrs.filterShape,
        attrs.strides,
        1,
        attrs.pad,
        attrs.dimRoundingMode,
        false,
        'channelsLast',
      );
      if (!util.arraysEqual(dy.shape, info.outShape)) return fallback(args);
      const dw = memory.output([...attrs.filterShape]);
      const dwValues = memory.view(dw);
      const xValues = memory.view(x);
      const dyValues = memory.view(dy);
      if (dwValues === undefined || xValues === undefined || dyValues === undefined) {
        (backend as { disposeData(dataId: object): void }).disposeData(dw.dataId);
        return fallback(args);
      }
      addon.conv2dBackpropFilter(xValues, dyValues, dwValues, geometryOf(info));
      return dw;
    };
    return { kernelName: Conv2DBackpropFilter, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

/** Conv2DBackpropInput: dx = col2im(dy W^T), one SGEMM per chunk of output pixels. */
export function nativeConv2dBackpropInputKernel(addon: NativeAddon) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback = delegate(Conv2DBackpropInput, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { inputs, backend } = args;
      const attrs = args.attrs as unknown as ConvAttributes;
      const { dy, filter } = inputs as Record<string, TensorInfo | undefined>;
      const memory = floatMemory(backendName, backend);
      if (
        memory === undefined ||
        dy === undefined ||
        filter === undefined ||
        attrs.inputShape === undefined ||
        filter.shape.length !== 4 ||
        !isChannelsLast(attrs.dataFormat)
      ) {
        return fallback(args);
      }
      const info = backend_util.computeConv2DInfo(
        attrs.inputShape,
        filter.shape as Shape4,
        attrs.strides,
        1,
        attrs.pad,
        attrs.dimRoundingMode,
        false,
        'channelsLast',
      );
      if (!util.arraysEqual(dy.shape, info.outShape)) return fallback(args);
      const dx = memory.output([...attrs.inputShape]);
      const dxValues = memory.view(dx);
      const dyValues = memory.view(dy);
      const filterValues = memory.view(filter);
      if (dxValues === undefined || dyValues === undefined || filterValues === undefined) {
        (backend as { disposeData(dataId: object): void }).disposeData(dx.dataId);
        return fallback(args);
      }
      addon.conv2dBackpropInput(dyValues, filterValues, dxValues, geometryOf(info));
      return dx;
    };
    return { kernelName: Conv2DBackpropInput, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

/** BatchMatMul (with transposes and a broadcast batch of 1) as SGEMM calls. */
export function nativeBatchMatMulKernel(addon: NativeAddon) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback = delegate(BatchMatMul, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { inputs, backend } = args;
      const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
      const { a, b } = inputs as Record<string, TensorInfo | undefined>;
      const memory = floatMemory(backendName, backend);
      if (memory === undefined || a === undefined || b === undefined || a.shape.length < 2 || b.shape.length < 2) return fallback(args);
      const aRank = a.shape.length;
      const bRank = b.shape.length;
      const m = (transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2]) as number;
      const k = (transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1]) as number;
      const kB = (transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2]) as number;
      const n = (transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1]) as number;
      if (k !== kB) return fallback(args);
      const aBatchShape = a.shape.slice(0, -2);
      const bBatchShape = b.shape.slice(0, -2);
      const aBatch = util.sizeFromShape(aBatchShape);
      const bBatch = util.sizeFromShape(bBatchShape);
      let batchShape: number[];
      if (util.arraysEqual(aBatchShape, bBatchShape)) batchShape = aBatchShape;
      else if (aBatch === 1 && aBatchShape.length <= bBatchShape.length) batchShape = bBatchShape;
      else if (bBatch === 1 && bBatchShape.length <= aBatchShape.length) batchShape = aBatchShape;
      else return fallback(args);
      const batch = util.sizeFromShape(batchShape);
      const out = memory.output([...batchShape, m, n]);
      const outValues = memory.view(out);
      const aValues = memory.view(a);
      const bValues = memory.view(b);
      if (outValues === undefined || aValues === undefined || bValues === undefined) {
        (backend as { disposeData(dataId: object): void }).disposeData(out.dataId);
        return fallback(args);
      }
      addon.batchMatMul(aValues, bValues, outValues, Int32Array.from([batch, aBatch, bBatch, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0]));
      return out;
    };
    return { kernelName: BatchMatMul, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

/**
 * Sum of float32 tensors over contiguous axes (every bias gradient: dy summed over B, H, W) as
 * strided row additions; tfjs-backend-wasm 4.22 transposes the reduced axes innermost first.
 */
export function nativeSumKernel(addon: NativeAddon) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback = delegate(Sum, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { inputs, backend } = args;
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const { x } = inputs as Record<string, TensorInfo | undefined>;
      const memory = floatMemory(backendName, backend);
      if (memory === undefined || x === undefined || x.dtype !== 'float32') return fallback(args);
      const axes = [...new Set(util.parseAxisParam(axis, x.shape))].sort((first, second) => first - second);
      if (axes.length === 0 || axes.some((value, index) => index > 0 && value !== (axes[index - 1] as number) + 1)) return fallback(args);
      const first = axes[0] as number;
      const last = axes[axes.length - 1] as number;
      const outer = util.sizeFromShape(x.shape.slice(0, first));
      const reduce = util.sizeFromShape(x.shape.slice(first, last + 1));
      const inner = util.sizeFromShape(x.shape.slice(last + 1));
      const shape = keepDims
        ? x.shape.map((size, index) => (index >= first && index <= last ? 1 : size))
        : x.shape.filter((_, index) => index < first || index > last);
      const out = memory.output(shape);
      const outValues = memory.view(out);
      const xValues = memory.view(x);
      if (outValues === undefined || xValues === undefined) {
        (backend as { disposeData(dataId: object): void }).disposeData(out.dataId);
        return fallback(args);
      }
      addon.sum(xValues, outValues, Int32Array.from([outer, reduce, inner]));
      return out;
    };
    return { kernelName: Sum, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

function disposeAll(backend: unknown, infos: readonly TensorInfo[]): void {
  for (const info of infos) (backend as { disposeData(dataId: object): void }).disposeData(info.dataId);
}

/**
 * Concat of float32/int32 tensors as one memcpy per outer row and input (the U-Net's skip
 * concatenations on the channel axis); tfjs-backend-wasm 4.22 makes a typed-array view per row.
 */
export function nativeConcatKernel(addon: NativeAddon) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback = delegate(Concat, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { backend } = args;
      const tensors = (Array.isArray(args.inputs) ? args.inputs : Object.values(args.inputs)) as TensorInfo[];
      const memory = floatMemory(backendName, backend);
      const first = tensors[0];
      const dtype = first?.dtype;
      if (
        memory === undefined ||
        first === undefined ||
        (dtype !== 'float32' && dtype !== 'int32') ||
        tensors.some((tensor) => tensor.dtype !== dtype)
      ) {
        return fallback(args);
      }
      const axis = util.parseAxisParam((args.attrs as unknown as { axis: number | number[] }).axis, first.shape)[0] as number;
      const shapes = tensors.map((tensor) => tensor.shape);
      backend_util.assertParamsConsistent(shapes, axis);
      const outShape = backend_util.computeOutShape(shapes, axis);
      const out = memory.output(outShape, dtype);
      const target = memory.words(out);
      const sources = tensors.map((tensor) => memory.words(tensor));
      if (target === undefined || sources.some((source) => source === undefined)) {
        disposeAll(backend, [out]);
        return fallback(args);
      }
      const outer = util.sizeFromShape(outShape.slice(0, axis));
      const rowLength = util.sizeFromShape(outShape.slice(axis));
      let offset = 0;
      tensors.forEach((tensor, index) => {
        const length = util.sizeFromShape(tensor.shape.slice(axis));
        addon.copyRows(sources[index] as Float32Array, target, Int32Array.from([outer, length, length, 0, rowLength, offset]));
        offset += length;
      });
      return out;
    };
    return { kernelName: Concat, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

/** SplitV (every Concat's gradient) of float32/int32 tensors as one memcpy per outer row and part. */
export function nativeSplitVKernel(addon: NativeAddon) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback = delegate(SplitV, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { backend } = args;
      const { x } = args.inputs as Record<string, TensorInfo | undefined>;
      const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
      const memory = floatMemory(backendName, backend);
      if (memory === undefined || x === undefined || (x.dtype !== 'float32' && x.dtype !== 'int32')) return fallback(args);
      const $axis = util.parseAxisParam(axis, x.shape)[0] as number;
      const sizes = backend_util.prepareSplitSize(x as never, numOrSizeSplits, $axis);
      const outputs = sizes.map((size) => {
        const shape = [...x.shape];
        shape[$axis] = size;
        return memory.output(shape, x.dtype as 'float32' | 'int32');
      });
      const source = memory.words(x);
      const targets = outputs.map((output) => memory.words(output));
      if (source === undefined || targets.some((target) => target === undefined)) {
        disposeAll(backend, outputs);
        return fallback(args);
      }
      const outer = util.sizeFromShape(x.shape.slice(0, $axis));
      const inner = util.sizeFromShape(x.shape.slice($axis + 1));
      const rowStride = (x.shape[$axis] as number) * inner;
      let start = 0;
      sizes.forEach((size, index) => {
        const length = size * inner;
        addon.copyRows(source, targets[index] as Float32Array, Int32Array.from([outer, length, rowStride, start * inner, length, 0]));
        start += size;
      });
      return outputs;
    };
    return { kernelName: SplitV, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

/**
 * ResizeNearestNeighbor (NHWC, float32 or int32) by integer factors without alignCorners or
 * halfPixelCenters (a U-Net's 2x upsampling): output (i, j) copies input (i / fh, j / fw), as tfjs
 * computes it then (floor(i * H / (fh * H)) = floor(i / fh)); other cases go to `replaced`.
 */
export function nativeResizeNearestNeighborKernel(addon: NativeAddon) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback = delegate(ResizeNearestNeighbor, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { backend } = args;
      const { images } = args.inputs as Record<string, TensorInfo | undefined>;
      const { size, alignCorners, halfPixelCenters } = args.attrs as unknown as {
        size: [number, number];
        alignCorners: boolean;
        halfPixelCenters: boolean;
      };
      const memory = floatMemory(backendName, backend);
      if (memory === undefined || images === undefined || images.shape.length !== 4 || alignCorners || halfPixelCenters) return fallback(args);
      if (images.dtype !== 'float32' && images.dtype !== 'int32') return fallback(args);
      const [batch, height, width, channels] = images.shape as Shape4;
      const [newHeight, newWidth] = size;
      if (height === 0 || width === 0 || newHeight % height !== 0 || newWidth % width !== 0 || newHeight === 0 || newWidth === 0)
        return fallback(args);
      const out = memory.output([batch, newHeight, newWidth, channels], images.dtype);
      const source = memory.words(images);
      const target = memory.words(out);
      if (source === undefined || target === undefined) {
        disposeAll(backend, [out]);
        return fallback(args);
      }
      addon.upsampleNearest(source, target, Int32Array.from([batch * height, width, channels, newHeight / height, newWidth / width]));
      return out;
    };
    return { kernelName: ResizeNearestNeighbor, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

/**
 * Slice of float32/int32 tensors as strided row copies: the runs after the last partially sliced
 * axis are contiguous, one copyRows call per index of the axes before the one above it
 * (attention's q, k, v column slices: one call). tfjs-backend-wasm 4.22 makes a typed-array view
 * per row (the U-Net's [2048, 192] -> [2048, 64] slices took 16-23 ms each, loaded machine).
 */
export function nativeSliceKernel(addon: NativeAddon) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback = delegate(Slice, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { backend } = args;
      const { x } = args.inputs as Record<string, TensorInfo | undefined>;
      const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
      const memory = floatMemory(backendName, backend);
      if (memory === undefined || x === undefined || (x.dtype !== 'float32' && x.dtype !== 'int32') || x.shape.length === 0) return fallback(args);
      const [starts, sizes] = slice_util.parseSliceParams(x as never, begin, size) as [number[], number[]];
      slice_util.assertParamsValid(x as never, starts, sizes);
      const out = memory.output(sizes, x.dtype);
      const source = memory.words(x);
      const target = memory.words(out);
      if (source === undefined || target === undefined) {
        disposeAll(backend, [out]);
        return fallback(args);
      }
      if (util.sizeFromShape(sizes) === 0) return out;
      const rank = x.shape.length;
      const strides = x.shape.map((_, axis) => util.sizeFromShape(x.shape.slice(axis + 1)));
      // 1. the last axis sliced partially: everything after it is whole, so each run is contiguous
      let last = rank - 1;
      while (last > 0 && sizes[last] === x.shape[last]) last -= 1;
      const length = (sizes[last] as number) * (strides[last] as number);
      const runStart = (starts[last] as number) * (strides[last] as number);
      if (last === 0) {
        addon.copyRows(source, target, Int32Array.from([1, length, 0, runStart, 0, 0]));
        return out;
      }
      // 2. the axis above it inside one copyRows call; the axes above that by index
      const axis = last - 1;
      const rows = sizes[axis] as number;
      const outer = util.sizeFromShape(sizes.slice(0, axis));
      for (let index = 0; index < outer; index += 1) {
        let remainder = index;
        let offset = runStart + (starts[axis] as number) * (strides[axis] as number);
        for (let above = axis - 1; above >= 0; above -= 1) {
          const count = sizes[above] as number;
          offset += ((starts[above] as number) + (remainder % count)) * (strides[above] as number);
          remainder = Math.floor(remainder / count);
        }
        addon.copyRows(source, target, Int32Array.from([rows, length, strides[axis] as number, offset, length, index * rows * length]));
      }
      return out;
    };
    return { kernelName: Slice, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

/** Sigmoid of float32 tensors (SiLU's gate) in AVX-512 on CPUs that have it, 4x tfjs-backend-wasm's. */
export function nativeSigmoidKernel(addon: NativeAddon) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback = delegate(Sigmoid, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { backend } = args;
      const { x } = args.inputs as Record<string, TensorInfo | undefined>;
      const memory = floatMemory(backendName, backend);
      if (memory === undefined || x === undefined || x.dtype !== 'float32') return fallback(args);
      const out = memory.output([...x.shape]);
      const outValues = memory.view(out);
      const xValues = memory.view(x);
      if (outValues === undefined || xValues === undefined) {
        disposeAll(backend, [out]);
        return fallback(args);
      }
      addon.sigmoid(xValues, outValues);
      return out;
    };
    return { kernelName: Sigmoid, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

/** Softmax over the last axis of float32 tensors (attention's weights) in AVX-512 on CPUs that have it, rows shared out among the kernel threads. */
export function nativeSoftmaxKernel(addon: NativeAddon) {
  return (backendName: string, replaced?: KernelConfig): KernelConfig => {
    const fallback = delegate(Softmax, backendName, replaced);
    const kernelFunc: KernelFunc = (args) => {
      const { backend } = args;
      const { logits } = args.inputs as Record<string, TensorInfo | undefined>;
      const { dim } = args.attrs as unknown as { dim: number | number[] };
      const memory = floatMemory(backendName, backend);
      if (memory === undefined || logits === undefined || logits.dtype !== 'float32' || logits.shape.length === 0) return fallback(args);
      const rank = logits.shape.length;
      const axis = Array.isArray(dim) ? (dim.length === 1 ? (dim[0] as number) : Number.NaN) : dim;
      if (axis !== -1 && axis !== rank - 1) return fallback(args);
      const length = logits.shape[rank - 1] as number;
      if (length === 0) return fallback(args);
      const out = memory.output([...logits.shape]);
      const outValues = memory.view(out);
      const values = memory.view(logits);
      if (outValues === undefined || values === undefined) {
        disposeAll(backend, [out]);
        return fallback(args);
      }
      addon.softmax(values, outValues, Int32Array.from([util.sizeFromShape(logits.shape) / length, length]));
      return out;
    };
    return { kernelName: Softmax, backendName, kernelFunc, ...keepSetup(replaced) };
  };
}

const GROUP_NORM_ACTIVATIONS: Readonly<Record<string, number>> = { linear: 0, silu: 1 };

interface GroupNormArguments {
  readonly memory: FloatMemory;
  readonly x: TensorInfo;
  readonly gamma: TensorInfo;
  readonly beta: TensorInfo;
  readonly parameters: Int32Array;
  readonly epsilon: number;
}

/** The inputs and parameters of GROUP_NORM_KERNEL_NAME and its gradient; throws on anything they do not take. */
function groupNormArguments(kernelName: string, backendName: string, args: Parameters<KernelFunc>[0]): GroupNormArguments {
  const { x, gamma, beta } = args.inputs as Record<string, TensorInfo | undefined>;
  const { groups, epsilon, activation } = args.attrs as unknown as { groups: number; epsilon: number; activation?: string };
  const memory = floatMemory(backendName, args.backend);
  const code = GROUP_NORM_ACTIVATIONS[activation ?? 'linear'];
  if (memory === undefined || x === undefined || gamma === undefined || beta === undefined || code === undefined || x.shape.length !== 4) {
    throw new Error(`${kernelName}: needs x [B, H, W, C], gamma, beta and activation 'linear' or 'silu'`);
  }
  const [batch, height, width, channels] = x.shape as Shape4;
  const perImage = (info: TensorInfo, name: string): number => {
    const size = util.sizeFromShape(info.shape);
    if (size === channels && info.shape.length <= 1) return 0;
    if (size === batch * channels && info.shape.length === 2 && info.shape[0] === batch) return 1;
    throw new Error(`${kernelName}: ${name} must be [${channels}] or [${batch}, ${channels}], not [${info.shape.join(', ')}]`);
  };
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw new Error(`${kernelName}: ${groups} groups must divide ${channels} channels`);
  }
  const parameters = Int32Array.from([batch, height * width, channels, groups, perImage(gamma, 'gamma'), perImage(beta, 'beta'), code]);
  return { memory, x, gamma, beta, parameters, epsilon };
}

/**
 * GROUP_NORM_KERNEL_NAME (group normalization, Wu & He 2018, fused with its per-channel scale and
 * shift and an optional SiLU) on float32 NHWC tensors: one pass over x for each image's group
 * statistics (double sums), one for the output. Throws on anything else (the callers check first).
 */
export function nativeGroupNormKernel(addon: NativeAddon) {
  return (backendName: string): KernelConfig => {
    const kernelFunc: KernelFunc = (args) => {
      const { memory, x, gamma, beta, parameters, epsilon } = groupNormArguments(GROUP_NORM_KERNEL_NAME, backendName, args);
      const { scaleShift } = args.inputs as Record<string, TensorInfo | undefined>;
      const out = memory.output([...x.shape]);
      const outValues = memory.view(out);
      const xValues = memory.view(x);
      let gammaValues = memory.view(gamma);
      let betaValues = memory.view(beta);
      const scaleShiftValues = scaleShift === undefined ? null : memory.view(scaleShift);
      if (
        outValues === undefined ||
        xValues === undefined ||
        gammaValues === undefined ||
        betaValues === undefined ||
        scaleShiftValues === undefined
      ) {
        disposeAll(args.backend, [out]);
        throw new Error(`${GROUP_NORM_KERNEL_NAME}: x, gamma, beta and scaleShift must be float32`);
      }
      if (scaleShiftValues !== null) {
        // AdaGN (Dhariwal & Nichol 2021): per image, gamma (1 + scale) and beta (1 + scale) + shift
        const [batch, , , channels] = x.shape as Shape4;
        if (parameters[4] !== 0 || parameters[5] !== 0 || !util.arraysEqual(scaleShift?.shape ?? [], [batch, 2 * channels])) {
          disposeAll(args.backend, [out]);
          throw new Error(`${GROUP_NORM_KERNEL_NAME}: with scaleShift [B, 2C], gamma and beta must be [C]`);
        }
        ({ gamma: gammaValues, beta: betaValues } = adaptiveCoefficients(gammaValues, betaValues, scaleShiftValues, batch, channels));
        parameters[4] = 1;
        parameters[5] = 1;
      }
      addon.groupNorm(xValues, gammaValues, betaValues, outValues, parameters, epsilon);
      return out;
    };
    return { kernelName: GROUP_NORM_KERNEL_NAME, backendName, kernelFunc };
  };
}

/**
 * AdaGN's per-image coefficients from GroupNorm's gamma, beta [C] and scaleShift [B, 2C] (scale the
 * first half, shift the second): gamma (1 + scale) and beta (1 + scale) + shift, [B, C] each, in
 * float32 arithmetic (each operation rounded with Math.fround, as tf.add and tf.mul round them).
 */
function adaptiveCoefficients(
  gamma: Float32Array,
  beta: Float32Array,
  scaleShift: Float32Array,
  batch: number,
  channels: number,
): { gamma: Float32Array; beta: Float32Array } {
  const imageGamma = new Float32Array(batch * channels);
  const imageBeta = new Float32Array(batch * channels);
  for (let image = 0; image < batch; image += 1) {
    for (let channel = 0; channel < channels; channel += 1) {
      const factor = Math.fround((scaleShift[image * 2 * channels + channel] as number) + 1);
      const shift = scaleShift[image * 2 * channels + channels + channel] as number;
      imageGamma[image * channels + channel] = Math.fround((gamma[channel] as number) * factor);
      imageBeta[image * channels + channel] = Math.fround(Math.fround((beta[channel] as number) * factor) + shift);
    }
  }
  return { gamma: imageGamma, beta: imageBeta };
}

/**
 * GROUP_NORM_GRAD_KERNEL_NAME: the fused GroupNorm's gradient for its output gradient dy (Wu & He
 * 2018's backward, with the SiLU's derivative): [dx, dgamma, dbeta] in three passes over each
 * image (statistics; dz = dy act'(z) and its channel sums; dx), sums in double.
 */
export function nativeGroupNormGradKernel(addon: NativeAddon) {
  return (backendName: string): KernelConfig => {
    const kernelFunc: KernelFunc = (args) => {
      const { memory, x, gamma, beta, parameters, epsilon } = groupNormArguments(GROUP_NORM_GRAD_KERNEL_NAME, backendName, args);
      const { dy } = args.inputs as Record<string, TensorInfo | undefined>;
      if (dy === undefined || !util.arraysEqual(dy.shape, x.shape)) throw new Error(`${GROUP_NORM_GRAD_KERNEL_NAME}: dy must have x's shape`);
      const outputs = [memory.output([...x.shape]), memory.output([...gamma.shape]), memory.output([...beta.shape])];
      const [dx, dgamma, dbeta] = outputs.map((output) => memory.view(output));
      const [xValues, gammaValues, betaValues, dyValues] = [x, gamma, beta, dy].map((input) => memory.view(input));
      if (
        dx === undefined ||
        dgamma === undefined ||
        dbeta === undefined ||
        xValues === undefined ||
        gammaValues === undefined ||
        betaValues === undefined ||
        dyValues === undefined
      ) {
        disposeAll(args.backend, outputs);
        throw new Error(`${GROUP_NORM_GRAD_KERNEL_NAME}: x, gamma, beta and dy must be float32`);
      }
      addon.groupNormGrad(xValues, gammaValues, betaValues, dyValues, dx, dgamma, dbeta, parameters, epsilon);
      return outputs;
    };
    return { kernelName: GROUP_NORM_GRAD_KERNEL_NAME, backendName, kernelFunc };
  };
}

/**
 * Registers GROUP_NORM_KERNEL_NAME's gradient (once; tf.registerGradient is global): one
 * GROUP_NORM_GRAD_KERNEL_NAME call gives dx, dgamma and dbeta. It is computed when the tape reaches
 * the kernel, inside the engine's gradient scope, so what an input does not need is disposed with it.
 */
export function registerGroupNormGradient(): void {
  if (getGradient(GROUP_NORM_KERNEL_NAME) !== undefined) return;
  registerGradient({
    kernelName: GROUP_NORM_KERNEL_NAME,
    inputsToSave: ['x', 'gamma', 'beta'],
    gradFunc: (dy, saved, attrs) => {
      const [x, gamma, beta] = saved as [Tensor, Tensor, Tensor];
      const inputs = { x, gamma, beta, dy: dy as Tensor } as unknown as NamedTensorMap;
      const [dx, dgamma, dbeta] = engine().runKernel(GROUP_NORM_GRAD_KERNEL_NAME, inputs, attrs) as Tensor[];
      return { x: () => dx as Tensor, gamma: () => dgamma as Tensor, beta: () => dbeta as Tensor };
    },
  });
}
