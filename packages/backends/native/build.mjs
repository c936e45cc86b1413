#!/usr/bin/env node
// Compiles native/kernels.c (im2col + SGEMM convolution, matmul, sum and copy kernels, a Node-API
// addon) into dist/native/tfjs-diffusion-native.node. Run by the package's build script after tsc.
// It never fails the build: when the addon cannot be made (no C compiler, no Node headers, not
// Linux or macOS) it prints one line saying why and exits 0, and @tfjs-diffusion/backends then
// keeps its JavaScript/wasm kernels (as it does at run time when OpenBLAS cannot be opened).
//
// Needs: gcc (or $CC) and Node's headers (node_api.h: <node prefix>/include/node, /usr/include/node).
// OpenBLAS is opened at run time (dlopen), not linked: at run time the kernels need the OpenBLAS
// shared library (Debian/Ubuntu: apt-get install libopenblas0, which libopenblas-dev pulls in).
// TFJS_DIFFUSION_NATIVE=0 skips the build.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'kernels.c');
const outputFolder = resolve(here, '..', 'dist', 'native');
const output = join(outputFolder, 'tfjs-diffusion-native.node');
const prefix = 'native kernels:';

function skip(reason) {
  rmSync(output, { force: true });
  console.log(`${prefix} not built (${reason}); the JavaScript/wasm kernels stay in use`);
  process.exit(0);
}

// Whatever else goes wrong (a file system error, ...) is one line too, never a failed build.
process.on('uncaughtException', (error) => skip(`unexpected error: ${String(error?.message ?? error).split('\n')[0]}`));

function firstExisting(paths) {
  return paths.find((path) => path !== undefined && existsSync(path));
}

if (process.env.TFJS_DIFFUSION_NATIVE === '0') skip('TFJS_DIFFUSION_NATIVE=0');
if (process.platform !== 'linux' && process.platform !== 'darwin') skip(`platform ${process.platform} is not supported`);

const compiler = process.env.CC ?? 'gcc';
try {
  execFileSync(compiler, ['--version'], { stdio: 'ignore' });
} catch {
  skip(`no C compiler: '${compiler}' did not run (Debian: apt-get install gcc)`);
}

const nodeHeaders = firstExisting([
  process.env.TFJS_DIFFUSION_NODE_HEADERS,
  resolve(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].map((folder) => (folder === undefined ? undefined : join(folder, 'node_api.h'))));
if (nodeHeaders === undefined) skip("Node's headers (node_api.h) were not found; set TFJS_DIFFUSION_NODE_HEADERS to the folder that holds them");

// Portable code generation: the SGEMM kernels come from OpenBLAS, which picks them for the CPU at
// run time (DYNAMIC_ARCH); our own loops are compiled for several ISAs (target_clones, x86-64 only).
const architectureFlags = process.arch === 'x64' ? ['-march=x86-64-v2', '-mtune=generic'] : ['-DNO_TARGET_CLONES'];
const flags = [
  '-O3',
  ...architectureFlags,
  '-std=gnu11',
  '-shared',
  '-fPIC',
  '-fvisibility=hidden',
  '-Wall',
  '-I',
  dirname(nodeHeaders),
  ...(process.platform === 'darwin' ? ['-undefined', 'dynamic_lookup'] : []),
];

mkdirSync(outputFolder, { recursive: true });
const temporary = `${output}.${process.pid}.tmp`;
// OpenMP (libgomp, which gcc brings) shares a kernel's tiles among the calling thread's kernel
// threads; without it (a compiler with no OpenMP) the pragmas are ignored and every kernel runs on
// the calling thread.
const compile = (extra) =>
  execFileSync(compiler, [...flags, ...extra, source, ...(process.platform === 'linux' ? ['-ldl'] : []), '-lm', '-o', temporary], { stdio: ['ignore', 'ignore', 'pipe'] });
let openmp = true;
try {
  try {
    compile(['-fopenmp']);
  } catch {
    openmp = false;
    compile(['-Wno-unknown-pragmas']);
  }
} catch (error) {
  rmSync(temporary, { force: true });
  const message = String(error?.stderr ?? error?.message ?? error).trim().split('\n').find((line) => /error/i.test(line)) ?? 'compiler failed';
  skip(`${compiler} failed: ${message.trim()}`);
}
renameSync(temporary, output);

// Load it once here, so that a problem at run time (no OpenBLAS library) is reported now.
let addon;
try {
  const { createRequire } = await import('node:module');
  addon = createRequire(import.meta.url)(output);
} catch (error) {
  skip(`built, but it does not load: ${String(error?.message ?? error).split('\n')[0]}`);
}
const { OPENBLAS_LIBRARIES } = await import('./openblas-libraries.mjs');
const missing = addon.load(OPENBLAS_LIBRARIES, 1);
const size = `${Math.round(statSync(output).size / 1024)} KiB`;
if (missing === '') {
  const info = addon.info();
  const gemm = info.avx512Gemm ? 'AVX-512 SGEMM on this CPU, ' : '';
  console.log(`${prefix} built ${output} (${size}; ${gemm}${openmp ? 'OpenMP, ' : ''}${info.blas.split(' ').slice(0, 2).join(' ')}, core ${info.core})`);
} else {
  console.log(`${prefix} built ${output} (${size}), but OpenBLAS does not load, so they stay off: ${missing} (Debian: apt-get install libopenblas0)`);
}
