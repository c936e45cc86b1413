import { DiffusionError, createNoiseSource, type NoiseSource, type NoiseSourceState } from '@tfjs-diffusion/core';
import { randomPermutation } from './permutation.js';

/** Options of `createBatchIterator`. */
export interface BatchIteratorOptions {
  /** Number of items in the dataset. */
  readonly count: number;
  readonly batchSize: number;
  /** Seeds the shuffles: one value is drawn from it at creation, later epochs never touch it again. */
  readonly noise: NoiseSource;
  /** Drop the last, smaller batch of each epoch; default false. */
  readonly dropLast?: boolean;
  /** Shuffle each epoch; default true (false: 0, 1, 2, ... every epoch). */
  readonly shuffle?: boolean;
}

/** JSON-safe position of a batch iterator, saved with a checkpoint for an exact resume. */
export interface BatchIteratorState {
  readonly count: number;
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly shuffle: boolean;
  /** Epochs started so far minus one (0 during the first epoch). */
  readonly epoch: number;
  /** Index of the next item within the current epoch's order. */
  readonly position: number;
  /** The iterator's own generator state just before it drew the current epoch's permutation. */
  readonly epochNoise: NoiseSourceState;
}

/** Seeded mini-batches of dataset indices: a fresh permutation per epoch, exact save and resume. */
export interface BatchIterator extends Iterable<Int32Array> {
  /** Current epoch (0-based); advances when `nextBatch` starts a new one. */
  readonly epoch: number;
  /** Index of the next item within the current epoch's order. */
  readonly position: number;
  readonly batchesPerEpoch: number;
  /** The next batch of indices, starting a new epoch (and permutation) when the current one is used up. */
  nextBatch(): Int32Array;
  /** Iterating yields the batches left in the current epoch (all of the next epoch if it is used up). */
  [Symbol.iterator](): Iterator<Int32Array>;
  getState(): BatchIteratorState;
  /** Restores `getState()`; the following batches are exactly those the saved iterator would have given. */
  setState(state: BatchIteratorState): void;
}

/** Creates a seeded epoch-wise shuffling batch iterator (random reshuffling, one Fisher-Yates permutation per epoch). */
export function createBatchIterator(options: BatchIteratorOptions): BatchIterator {
  const { count, batchSize, noise } = options;
  const dropLast = options.dropLast ?? false;
  const shuffle = options.shuffle ?? true;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new DiffusionError('invalid-argument', `createBatchIterator: count must be a positive integer, got ${count}`);
  }
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new DiffusionError('invalid-argument', `createBatchIterator: batchSize must be a positive integer, got ${batchSize}`);
  }
  if (dropLast && batchSize > count) {
    throw new DiffusionError(
      'invalid-argument',
      `createBatchIterator: batchSize ${batchSize} exceeds count ${count} with dropLast, so no batch would ever be produced`,
    );
  }
  const batchesPerEpoch = dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
  const epochEnd = dropLast ? batchesPerEpoch * batchSize : count;

  // The iterator owns a generator derived from `noise`, so that restoring it never rewinds `noise`.
  const own = createNoiseSource(Math.floor((noise.uniform(1)[0] as number) * 2 ** 32));
  const identity = Int32Array.from({ length: count }, (_, index) => index);
  let epoch = 0;
  let position = 0;
  let epochNoise = own.getState();
  let order = shuffle ? randomPermutation(count, own) : identity;

  const startEpoch = (): void => {
    epoch += 1;
    position = 0;
    epochNoise = own.getState();
    order = shuffle ? randomPermutation(count, own) : identity;
  };
  const nextBatch = (): Int32Array => {
    if (position >= epochEnd) startEpoch();
    const batch = order.slice(position, Math.min(position + batchSize, epochEnd));
    position += batch.length;
    return batch;
  };

  return {
    get epoch() {
      return epoch;
    },
    get position() {
      return position;
    },
    batchesPerEpoch,
    nextBatch,
    *[Symbol.iterator]() {
      if (position >= epochEnd) startEpoch();
      while (position < epochEnd) yield nextBatch();
    },
    getState() {
      return { count, batchSize, dropLast, shuffle, epoch, position, epochNoise };
    },
    setState(state) {
      const matches = state?.count === count && state.batchSize === batchSize && state.dropLast === dropLast && state.shuffle === shuffle;
      if (!matches) {
        throw new DiffusionError(
          'invalid-argument',
          `BatchIterator.setState: state is for count ${state?.count}, batchSize ${state?.batchSize}, dropLast ${state?.dropLast}, shuffle ${state?.shuffle}; ` +
            `this iterator has ${count}, ${batchSize}, ${dropLast}, ${shuffle}`,
        );
      }
      if (
        !Number.isSafeInteger(state.epoch) ||
        state.epoch < 0 ||
        !Number.isSafeInteger(state.position) ||
        state.position < 0 ||
        state.position > epochEnd
      ) {
        throw new DiffusionError('invalid-argument', `BatchIterator.setState: epoch ${state.epoch} / position ${state.position} out of range`);
      }
      own.setState(state.epochNoise);
      epochNoise = own.getState();
      order = shuffle ? randomPermutation(count, own) : identity;
      epoch = state.epoch;
      position = state.position;
    },
  };
}
