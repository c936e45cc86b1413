import { loadavg } from 'node:os';
import { DiffusionError } from '@tfjs-diffusion/core';
import type { Peers } from './find-peers.js';
import { torchPeerForwardFlops } from './flop-count.js';
import type { MachinePeak } from './machine-peak.js';
import { formatProfile } from './profile-table.js';
import { summariseRounds, type RoundFigures, type RoundSummary } from './round-summary.js';
import { runBench, type BenchOptions, type BenchResult } from './run-bench.js';

export interface BenchRoundsOptions extends BenchOptions {
  /** Interleaved rounds of ours and every peer; `profile` applies to the last round only. */
  readonly rounds: number;
  readonly peers: Peers;
  /** The machine's peak for the threads used, for the share of peak. */
  readonly peak?: MachinePeak;
  /** Where progress lines, each round's figures and the profile tables go. */
  readonly log: (line: string) => void;
}

/** What `tfjs-diffusion bench --json` prints for one backend: the last run's settings, the round summary, the peak and every round. */
export type BenchReport = Omit<BenchResult, 'trainImagesPerSec' | 'evalImagesPerSec'> &
  RoundSummary & { readonly peak?: MachinePeak; readonly rounds: readonly RoundFigures[] };

async function tryPeer<Figures>(name: string, run: (() => Promise<Figures>) | undefined, log: (line: string) => void): Promise<Figures | undefined> {
  if (run === undefined) return undefined;
  try {
    return await run();
  } catch (error) {
    log(`peer: ${name}: ${(error as Error).message}; no figure this round`);
    return undefined;
  }
}

/**
 * Benchmarks one backend in interleaved rounds (ours, then PyTorch, then onnxruntime-node, back to
 * back, with the 1-minute load average before each round) and summarises them (summariseRounds):
 * FLOPs are counted on the active backend, which must be registered.
 */
export async function benchRounds(options: BenchRoundsOptions): Promise<BenchReport> {
  const { rounds, peers, peak, log } = options;
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new DiffusionError('invalid-argument', `benchRounds: rounds must be an integer of at least 1, got ${rounds}`);
  const forwardFlops = await torchPeerForwardFlops();
  const perRound: RoundFigures[] = [];
  let last: BenchResult | undefined;
  for (let round = 0; round < rounds; round += 1) {
    const where = options.workers === 0 ? 'main thread' : `${options.workers} workers`;
    log(`bench: round ${round + 1}/${rounds}: ${options.backend}, ${where}, batch ${options.batch}`);
    const load = loadavg()[0] as number;
    last = await runBench({ ...options, profile: options.profile && round === rounds - 1 });
    const torch = await tryPeer('PyTorch', peers.torch, log);
    const ort = await tryPeer('onnxruntime-node', peers.ort, log);
    const figures: RoundFigures = {
      load1: Math.round(load * 100) / 100,
      ours: { train: last.trainImagesPerSec, eval: last.evalImagesPerSec },
      ...(torch ? { pytorch: { train: torch.trainImagesPerSec, eval: torch.evalImagesPerSec, version: torch.torch } } : {}),
      ...(ort ? { onnxruntime: { eval: ort.evalImagesPerSec, version: ort.version } } : {}),
    };
    log(`bench: round ${round + 1}: ${JSON.stringify(figures)}`);
    perRound.push(figures);
  }
  const final = last as BenchResult;
  if (final.profile) {
    const replicas = `kernel ms summed over ${final.threads} replicas`;
    log(formatProfile(`${final.backend} training step, forward + backward (${replicas})`, final.profile.train).trimEnd());
    log(formatProfile(`${final.backend} evaluation (${replicas})`, final.profile.eval).trimEnd());
  }
  const summary = summariseRounds(perRound, forwardFlops, peak?.gflops);
  const { trainImagesPerSec: _train, evalImagesPerSec: _eval, ...rest } = final;
  return { ...rest, ...summary, ...(peak ? { peak } : {}), rounds: perRound };
}
