import { DiffusionError } from '@tfjs-diffusion/core';

/** One interleaved round: our figures and each peer's, taken back to back, with the 1-minute load average before it. */
export interface RoundFigures {
  readonly load1: number;
  readonly ours: { readonly train: number; readonly eval: number };
  readonly pytorch?: { readonly train: number; readonly eval: number; readonly version: string };
  readonly onnxruntime?: { readonly eval: number; readonly version: string };
}

/** The medians of the rounds, ratios to the peers (median of the per-round ratios), GFLOP/s and share of peak. */
export interface RoundSummary {
  readonly trainImagesPerSec: number;
  readonly evalImagesPerSec: number;
  readonly peers: {
    readonly pytorch?: { readonly trainImagesPerSec: number; readonly evalImagesPerSec: number; readonly version: string };
    readonly onnxruntime?: { readonly evalImagesPerSec: number; readonly version: string };
  };
  readonly ratio: {
    readonly trainVsPytorch?: number;
    readonly evalVsPytorch?: number;
    readonly evalVsOnnxruntime?: number;
    /** Evaluations against the faster peer of each round. */
    readonly evalVsBestPeer?: number;
  };
  /**
   * FLOPs per image: the forward pass counted from its kernels as direct convolutions and products
   * (2 per multiply-add), training taken as 3x the forward (forward + two backward products). The
   * same count serves every runtime, so `gflops` compare like for like; where a runtime does fewer
   * multiplications (our Winograd 3x3 layers) they are effective rates and `shareOfPeak` can pass 1.
   */
  readonly flops: { readonly forwardPerImage: number; readonly trainPerImage: number };
  readonly gflops: {
    readonly train: number;
    readonly eval: number;
    readonly pytorchTrain?: number;
    readonly pytorchEval?: number;
    readonly onnxruntimeEval?: number;
  };
  /** Achieved (effective, see `flops`) GFLOP/s over the measured peak of the threads used. */
  readonly shareOfPeak?: {
    readonly train: number;
    readonly eval: number;
    readonly pytorchTrain?: number;
    readonly pytorchEval?: number;
    readonly onnxruntimeEval?: number;
  };
  /** The lowest and highest 1-minute load average seen before a round. */
  readonly load1: readonly [number, number];
}

/** The median (the mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((first, second) => first - second);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

function medianOf<Item>(items: readonly Item[], pick: (item: Item) => number | undefined): number | undefined {
  const values = items.map(pick).filter((value): value is number => value !== undefined && Number.isFinite(value));
  return values.length === 0 ? undefined : median(values);
}

/**
 * Summarises interleaved rounds: medians of each figure, each ratio as the median of the rounds'
 * own ratios (a peer and ours measured back to back share the machine's load), achieved GFLOP/s as
 * images/s times FLOPs per image, and the share of `peakGflops` when given.
 */
export function summariseRounds(rounds: readonly RoundFigures[], forwardFlopsPerImage: number, peakGflops?: number): RoundSummary {
  if (rounds.length === 0) throw new DiffusionError('invalid-argument', 'summariseRounds: no rounds to summarise');
  const trainFlops = 3 * forwardFlopsPerImage;
  const train = median(rounds.map((entry) => entry.ours.train));
  const evaluation = median(rounds.map((entry) => entry.ours.eval));
  const pytorchTrain = medianOf(rounds, (entry) => entry.pytorch?.train);
  const pytorchEval = medianOf(rounds, (entry) => entry.pytorch?.eval);
  const ortEval = medianOf(rounds, (entry) => entry.onnxruntime?.eval);
  const ratio = (pick: (entry: RoundFigures) => number | undefined) => {
    const value = medianOf(rounds, pick);
    return value === undefined ? undefined : round(value, 3);
  };
  const gflops = (imagesPerSec: number | undefined, flops: number) =>
    imagesPerSec === undefined ? undefined : round((imagesPerSec * flops) / 1e9, 1);
  const achieved = {
    train: gflops(train, trainFlops) as number,
    eval: gflops(evaluation, forwardFlopsPerImage) as number,
    ...(pytorchTrain === undefined ? {} : { pytorchTrain: gflops(pytorchTrain, trainFlops) as number }),
    ...(pytorchEval === undefined ? {} : { pytorchEval: gflops(pytorchEval, forwardFlopsPerImage) as number }),
    ...(ortEval === undefined ? {} : { onnxruntimeEval: gflops(ortEval, forwardFlopsPerImage) as number }),
  };
  const share =
    peakGflops === undefined || !(peakGflops > 0)
      ? undefined
      : (Object.fromEntries(Object.entries(achieved).map(([key, value]) => [key, round(value / peakGflops, 3)])) as RoundSummary['shareOfPeak']);
  const versionOf = <Key extends 'pytorch' | 'onnxruntime'>(key: Key) =>
    rounds.map((entry) => entry[key]?.version).find((version) => version !== undefined) ?? '';
  const ratios = {
    trainVsPytorch: ratio((entry) => (entry.pytorch ? entry.ours.train / entry.pytorch.train : undefined)),
    evalVsPytorch: ratio((entry) => (entry.pytorch ? entry.ours.eval / entry.pytorch.eval : undefined)),
    evalVsOnnxruntime: ratio((entry) => (entry.onnxruntime ? entry.ours.eval / entry.onnxruntime.eval : undefined)),
    evalVsBestPeer: ratio((entry) => {
      const best = Math.max(entry.pytorch?.eval ?? 0, entry.onnxruntime?.eval ?? 0);
      return best > 0 ? entry.ours.eval / best : undefined;
    }),
  };
  const loads = rounds.map((entry) => entry.load1);
  return {
    trainImagesPerSec: round(train, 2),
    evalImagesPerSec: round(evaluation, 2),
    peers: {
      ...(pytorchTrain !== undefined && pytorchEval !== undefined
        ? { pytorch: { trainImagesPerSec: round(pytorchTrain, 2), evalImagesPerSec: round(pytorchEval, 2), version: versionOf('pytorch') } }
        : {}),
      ...(ortEval !== undefined ? { onnxruntime: { evalImagesPerSec: round(ortEval, 2), version: versionOf('onnxruntime') } } : {}),
    },
    ratio: Object.fromEntries(Object.entries(ratios).filter(([, value]) => value !== undefined)) as RoundSummary['ratio'],
    flops: { forwardPerImage: forwardFlopsPerImage, trainPerImage: trainFlops },
    gflops: achieved,
    ...(share ? { shareOfPeak: share } : {}),
    load1: [Math.min(...loads), Math.max(...loads)],
  };
}
