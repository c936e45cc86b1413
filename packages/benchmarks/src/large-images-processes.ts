import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DiffusionError } from '@tfjs-diffusion/core';
import { lastJsonLine, parseForwardLine, type ForwardFigures } from './large-images-line.js';
import type { PeerDevice } from './large-images-settings.js';
import { PEER_PYTHON } from './torch-peer.js';

// The three runners of the large-images benchmark as child processes: ours and onnxruntime-node
// (built entries of this package), PyTorch (peers/adm_peer.py with /usr/bin/python3).

/** peers/adm_peer.py of this package (beside src/ and dist/). */
export const ADM_PEER_SCRIPT = fileURLToPath(new URL('../peers/adm_peer.py', import.meta.url));

/**
 * A built runner entry: dist/NAME.js next to this module, or, when this module runs from its
 * TypeScript source (tests), the package's dist/NAME.js (build the package first).
 */
export function runnerEntry(name: 'large-images-ours-runner' | 'large-images-onnxruntime-runner'): string {
  const here = import.meta.url;
  const path = fileURLToPath(here.endsWith('.ts') ? new URL(`../dist/${name}.js`, here) : new URL(`./${name}.js`, here));
  if (!existsSync(path))
    throw new DiffusionError('backend-unavailable', `@tfjs-diffusion/benchmarks: ${path} is missing; build the package (pnpm build)`);
  return path;
}

interface ProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runProcess(file: string, args: readonly string[], timeoutMs: number): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + (error && error.killed ? `\nkilled after ${timeoutMs} ms` : '') });
    });
  });
}

/** The runner's error: the last stderr line naming an error (a Python or Node exception), else its last line. */
function failure(who: string, result: ProcessResult): Error {
  const lines = result.stderr.trim().split('\n');
  const named = lines.filter((line) => /(Error|Exception)\b|^error:|^adm_peer\.py: /.test(line.trim())).pop();
  return new Error(`${who} failed (exit ${result.code}): ${(named ?? lines[lines.length - 1] ?? '').trim()}`);
}

async function runNodeRunner(
  name: 'large-images-ours-runner' | 'large-images-onnxruntime-runner',
  request: object,
  timeoutMs: number,
): Promise<ForwardFigures> {
  // none of this process's Node flags: source-resolution ones (--conditions @tfjs-diffusion/source under vitest) would make the runner import .ts files
  const result = await runProcess(process.execPath, [runnerEntry(name), JSON.stringify(request)], timeoutMs);
  if (result.code !== 0) throw failure(name, result);
  return parseForwardLine(result.stdout, name);
}

/** What each runner needs for one batch size: the shared input file, where to write its output, the forwards to time. */
export interface RunnerRequest {
  readonly input: string;
  readonly output: string;
  readonly iterations: number;
  readonly warmup: number;
  readonly timeoutMs: number;
}

/** Times our forwards in a child process (large-images-ours-runner: loadPipeline of the model file on `backend`). */
export function runOursForwards(request: RunnerRequest & { readonly modelFile: string; readonly backend: string }): Promise<ForwardFigures> {
  const { timeoutMs, ...rest } = request;
  return runNodeRunner('large-images-ours-runner', rest, timeoutMs);
}

/** Times onnxruntime-node's forwards in a child process (onnxruntime-node from `ortDir`/node_modules, intraOpNumThreads = threads). */
export function runOnnxruntimeForwards(
  request: RunnerRequest & { readonly model: string; readonly ortDir: string; readonly threads: number },
): Promise<ForwardFigures> {
  const { timeoutMs, ...rest } = request;
  return runNodeRunner('large-images-onnxruntime-runner', rest, timeoutMs);
}

/** How adm_peer.py builds the network (the guided-diffusion checkout, the README model flags, the .pt) and where it times it. */
export interface AdmPeerModel {
  readonly guidedDiffusion: string;
  readonly modelFlags: string;
  readonly checkpoint: string;
  readonly threads: number;
  /** Where the timed forwards run (--device; the ONNX export always runs on CPU). */
  readonly device: PeerDevice;
}

const admPeerArguments = (model: AdmPeerModel): string[] => [
  ADM_PEER_SCRIPT,
  '--guided-diffusion',
  model.guidedDiffusion,
  '--flags',
  model.modelFlags,
  '--checkpoint',
  model.checkpoint,
  '--threads',
  String(model.threads),
];

/** adm_peer.py's command line (after the Python interpreter) for timing forwards at the input's batch size on `model.device`. */
export function admPeerTimingArguments(
  model: AdmPeerModel,
  request: Pick<RunnerRequest, 'input' | 'output' | 'iterations' | 'warmup'> & { readonly batch: number },
): string[] {
  return [
    ...admPeerArguments(model),
    '--device',
    model.device,
    '--batch',
    String(request.batch),
    '--iterations',
    String(request.iterations),
    '--warmup',
    String(request.warmup),
    '--input',
    request.input,
    '--output',
    request.output,
  ];
}

/** Times PyTorch's forwards (adm_peer.py: guided-diffusion's UNetModel, torch.no_grad(), on CPU or CUDA) at the input's batch size. */
export async function runPytorchForwards(model: AdmPeerModel, request: RunnerRequest & { readonly batch: number }): Promise<ForwardFigures> {
  const result = await runProcess(PEER_PYTHON, admPeerTimingArguments(model, request), request.timeoutMs);
  if (result.code !== 0) throw failure('adm_peer.py', result);
  return parseForwardLine(result.stdout, 'adm_peer.py');
}

/** What adm_peer.py --check-device says about a device: its name and PyTorch's version; a DiffusionError('backend-unavailable') with adm_peer.py's one line when it is absent. */
export async function admPeerDevice(
  device: PeerDevice,
  timeoutMs = 120_000,
): Promise<{ readonly device: PeerDevice; readonly name: string; readonly version: string }> {
  const result = await runProcess(PEER_PYTHON, [ADM_PEER_SCRIPT, '--check-device', '--device', device], timeoutMs);
  if (result.code !== 0) throw new DiffusionError('backend-unavailable', failure('adm_peer.py --check-device', result).message);
  const line = lastJsonLine(result.stdout, 'adm_peer.py --check-device');
  return { device, name: String(line['name']), version: String(line['version']) };
}

/** Exports the network to ONNX with adm_peer.py --export-onnx; returns its JSON line (bytes, opset, export_s). */
export async function exportAdmOnnx(model: AdmPeerModel, path: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const result = await runProcess(PEER_PYTHON, [...admPeerArguments(model), '--export-onnx', path], timeoutMs);
  if (result.code !== 0) throw failure('adm_peer.py --export-onnx', result);
  return lastJsonLine(result.stdout, 'adm_peer.py --export-onnx');
}
