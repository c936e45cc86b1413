import { DiffusionError } from '@tfjs-diffusion/core';
import type { OutputSummary } from './large-images-files.js';

/**
 * One runner's figures for forwards at one batch size, as all three runners print them (one JSON
 * line, snake_case keys: adm_peer.py, large-images-onnxruntime-runner.js, large-images-ours-runner.js).
 */
export interface ForwardFigures {
  /** 'ours', 'pytorch' or 'onnxruntime-node'. */
  readonly peer: string;
  readonly version: string;
  readonly threads: number;
  readonly batch: number;
  readonly iterations: number;
  readonly warmup: number;
  readonly parameters?: number;
  /** Seconds to build the network from its file (load_s). */
  readonly loadSeconds: number;
  /** Wall seconds of each timed forward. */
  readonly wallSeconds: readonly number[];
  /** The median of wallSeconds. */
  readonly wallSecondsPerForward: number;
  /** Process CPU seconds (every thread) per timed forward. */
  readonly cpuSecondsPerForward: number;
  /** The process's max RSS before loading the model (the runtime alone), after loading it, and at the end. */
  readonly maxRssBeforeLoadMiB: number;
  readonly maxRssAfterLoadMiB: number;
  readonly maxRssMiB: number;
  readonly output: OutputSummary;
  /** Keys a runner adds beside these (ours: backend, native threads, tensor peak, FLOPs). */
  readonly extra: Readonly<Record<string, unknown>>;
}

const KNOWN = new Set([
  'peer',
  'version',
  'threads',
  'batch',
  'iterations',
  'warmup',
  'parameters',
  'load_s',
  'wall_s',
  'wall_s_per_forward',
  'cpu_s_per_forward',
  'max_rss_before_load_mib',
  'max_rss_after_load_mib',
  'max_rss_mib',
  'output',
]);

/** The last line of `stdout` that starts with '{', parsed; `who` names the runner in errors. */
export function lastJsonLine(stdout: string, who: string): Record<string, unknown> {
  const line = stdout
    .split('\n')
    .map((text) => text.trim())
    .filter((text) => text.startsWith('{'))
    .pop();
  if (line === undefined) throw new DiffusionError('data-error', `${who} printed no JSON line: ${JSON.stringify(stdout.slice(0, 200))}`);
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch (error) {
    throw new DiffusionError('data-error', `${who} printed a line that is not JSON (${(error as Error).message}): ${line.slice(0, 200)}`);
  }
}

/** Parses a runner's JSON line into ForwardFigures, naming the runner and the key when one is missing or not a finite number. */
export function parseForwardLine(stdout: string, who: string): ForwardFigures {
  const raw = lastJsonLine(stdout, who);
  const number = (key: string): number => {
    const value = raw[key];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new DiffusionError('data-error', `${who}'s line lacks a number '${key}'`);
    return value;
  };
  const wallSeconds = raw['wall_s'];
  if (!Array.isArray(wallSeconds) || wallSeconds.length === 0 || !wallSeconds.every((value) => typeof value === 'number' && Number.isFinite(value)))
    throw new DiffusionError('data-error', `${who}'s line lacks 'wall_s', the seconds of each timed forward`);
  const output = raw['output'] as Record<string, unknown> | undefined;
  const shape = output?.['shape'];
  const sum = output?.['sum'];
  const maxAbs = output?.['max_abs'];
  const first = output?.['first'];
  if (!Array.isArray(shape) || typeof sum !== 'number' || typeof maxAbs !== 'number' || !Array.isArray(first))
    throw new DiffusionError('data-error', `${who}'s line lacks 'output' {shape, sum, max_abs, first}`);
  const extra = Object.fromEntries(Object.entries(raw).filter(([key]) => !KNOWN.has(key)));
  return {
    peer: String(raw['peer'] ?? who),
    version: String(raw['version'] ?? ''),
    threads: number('threads'),
    batch: number('batch'),
    iterations: number('iterations'),
    warmup: number('warmup'),
    ...(typeof raw['parameters'] === 'number' ? { parameters: raw['parameters'] } : {}),
    loadSeconds: number('load_s'),
    wallSeconds: wallSeconds as number[],
    wallSecondsPerForward: number('wall_s_per_forward'),
    cpuSecondsPerForward: number('cpu_s_per_forward'),
    maxRssBeforeLoadMiB: number('max_rss_before_load_mib'),
    maxRssAfterLoadMiB: number('max_rss_after_load_mib'),
    maxRssMiB: number('max_rss_mib'),
    output: { shape: shape as number[], sum, maxAbs, first: first as number[] },
    extra,
  };
}
