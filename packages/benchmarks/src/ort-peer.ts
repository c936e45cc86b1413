import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DiffusionError } from '@tfjs-diffusion/core';

/** onnxruntime-node's figure for the torch_unet.py U-Net exported to ONNX (sampling only). */
export interface OrtPeerFigures {
  readonly evalImagesPerSec: number;
  readonly threads: number;
  readonly batch: number;
  readonly version: string;
  /** Max abs difference from PyTorch's output on the reference batch, when the export wrote one. */
  readonly maxAbsDifferenceFromTorch?: number;
}

/** Why the onnxruntime-node peer cannot run from `ortFolder` with the scripts in `peers`, or undefined when it can. */
export function ortPeerMissing(peers: string, ortFolder: string): string | undefined {
  const script = join(peers, 'ort_peer.mjs');
  if (!existsSync(script)) return `${script} does not exist`;
  if (!existsSync(join(ortFolder, 'node_modules', 'onnxruntime-node'))) {
    return `${ortFolder}/node_modules/onnxruntime-node does not exist (in ${ortFolder}: ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30.0)`;
  }
  const model = join(ortFolder, 'model', 'unet.onnx');
  if (!existsSync(model)) return `${model} does not exist (python3 ${join(peers, 'export_onnx.py')} ${model})`;
  return undefined;
}

/** Parses ort_peer.mjs's JSON line: {sample_image_evals_per_s, threads, batch, version, check: {max_abs_diff}}. */
export function parseOrtPeerOutput(stdout: string): OrtPeerFigures {
  const line = stdout
    .split('\n')
    .map((text) => text.trim())
    .filter((text) => text.startsWith('{'))
    .pop();
  if (line === undefined) throw new DiffusionError('data-error', `the onnxruntime-node peer printed no JSON line: ${stdout.slice(0, 200)}`);
  const raw = JSON.parse(line) as Record<string, unknown>;
  const figure = raw['sample_image_evals_per_s'];
  if (typeof figure !== 'number' || !Number.isFinite(figure))
    throw new DiffusionError('data-error', `the onnxruntime-node peer's output lacks sample_image_evals_per_s: ${line}`);
  const check = raw['check'] as Record<string, unknown> | undefined;
  const difference = check?.['max_abs_diff'];
  return {
    evalImagesPerSec: figure,
    threads: Number(raw['threads']),
    batch: Number(raw['batch']),
    version: String(raw['version'] ?? ''),
    ...(typeof difference === 'number' ? { maxAbsDifferenceFromTorch: difference } : {}),
  };
}

/** Runs `node ort_peer.mjs THREADS BATCH MODEL ORT_DIR` (the peer folder's script) and parses its figure. */
export function runOrtPeer(peers: string, ortFolder: string, threads: number, batch: number, timeoutMs = 900_000): Promise<OrtPeerFigures> {
  const script = join(peers, 'ort_peer.mjs');
  const model = join(ortFolder, 'model', 'unet.onnx');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [script, String(threads), String(batch), model, ortFolder],
      { timeout: timeoutMs, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`the onnxruntime-node peer failed: ${String(stderr).trim().split('\n').pop() ?? error.message}`));
          return;
        }
        try {
          resolve(parseOrtPeerOutput(String(stdout)));
        } catch (parseError) {
          reject(parseError as Error);
        }
      },
    );
  });
}
