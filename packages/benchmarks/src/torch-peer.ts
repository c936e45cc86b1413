import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DiffusionError } from '@tfjs-diffusion/core';

/** The PyTorch reference figures of shared/peers/torch_unet.py. */
export interface PeerFigures {
  readonly trainImagesPerSec: number;
  readonly evalImagesPerSec: number;
  readonly threads: number;
  readonly batch: number;
  readonly parameters: number;
  readonly torch: string;
}

export const PEER_PYTHON = '/usr/bin/python3';

function run(file: string, args: readonly string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Whether Debian's python3-torch is importable by /usr/bin/python3. */
export async function torchAvailable(): Promise<boolean> {
  if (!existsSync(PEER_PYTHON)) return false;
  return (await run(PEER_PYTHON, ['-c', 'import torch'], 60_000)).code === 0;
}

/** Parses the peer's one JSON line: {train_images_per_s, sample_image_evals_per_s, threads, batch, params, torch}. */
export function parsePeerOutput(stdout: string): PeerFigures {
  const line = stdout
    .split('\n')
    .map((text) => text.trim())
    .filter((text) => text.startsWith('{'))
    .pop();
  if (line === undefined) throw new DiffusionError('data-error', `the torch peer printed no JSON line: ${stdout.slice(0, 200)}`);
  const raw = JSON.parse(line) as Record<string, unknown>;
  const number = (key: string): number => {
    const value = raw[key];
    if (typeof value !== 'number' || !Number.isFinite(value))
      throw new DiffusionError('data-error', `the torch peer's output lacks a number '${key}': ${line}`);
    return value;
  };
  return {
    trainImagesPerSec: number('train_images_per_s'),
    evalImagesPerSec: number('sample_image_evals_per_s'),
    threads: number('threads'),
    batch: number('batch'),
    parameters: number('params'),
    torch: String(raw['torch'] ?? ''),
  };
}

/** Runs the peer script (`python3 torch_unet.py THREADS BATCH`) and parses its figures. */
export async function runTorchPeer(script: string, threads: number, batch: number, timeoutMs = 900_000): Promise<PeerFigures> {
  const result = await run(PEER_PYTHON, [script, String(threads), String(batch)], timeoutMs);
  if (result.code !== 0) throw new Error(`the torch peer failed (exit ${result.code}): ${result.stderr.trim().split('\n').pop() ?? ''}`);
  return parsePeerOutput(result.stdout);
}
