import { DiffusionError, type NoiseSource } from '@tfjs-diffusion/core';

/** The 2-D toy distributions of the diffusion literature. */
export const TOY_DATASETS = ['eight-gaussians', 'two-moons', 'swiss-roll', 'checkerboard'] as const;

export type ToyDatasetName = (typeof TOY_DATASETS)[number];

/** Options of `toyDataset`. */
export interface ToyDatasetOptions {
  /**
   * Standard deviation of the Gaussian jitter added to each point. Defaults: eight-gaussians 0.15
   * (the std of each mode), two-moons 0.1, swiss-roll 0.05, checkerboard 0 (uniform squares).
   */
  readonly std?: number;
}

/** Points `[x0, y0, x1, y1, ...]` with one label each; every dataset lies roughly within [-2.5, 2.5]^2. */
export interface ToyDataset {
  readonly name: ToyDatasetName;
  readonly count: number;
  /** Interleaved coordinates, `count * 2` values. */
  readonly points: Float32Array;
  readonly labels: Int32Array;
  readonly numClasses: number;
  /** eight-gaussians only: the mode centres (label = index into this list). */
  readonly modes?: readonly (readonly [number, number])[];
  /** eight-gaussians only: the std of each mode. */
  readonly modeStd?: number;
}

/** Radius of the eight-gaussians ring. */
export const EIGHT_GAUSSIANS_RADIUS = 2;
/** Number of swiss-roll classes (equal bands of the roll's angle). */
export const SWISS_ROLL_CLASSES = 4;

const DEFAULT_STD: Readonly<Record<ToyDatasetName, number>> = {
  'eight-gaussians': 0.15,
  'two-moons': 0.1,
  'swiss-roll': 0.05,
  checkerboard: 0,
};

/**
 * Samples a seeded 2-D toy dataset. eight-gaussians: 8 modes on a ring of radius 2 (label = mode);
 * two-moons: sklearn's make_moons centred and scaled by 1.5 (label = moon); swiss-roll: the 2-D roll
 * (t cos t, t sin t), t in [1.5 pi, 4.5 pi], scaled to radius 2.5 (label = quarter of the t range);
 * checkerboard: uniform on the 8 dark squares of a 4x4 board on [-2, 2]^2 as in FFJORD (label = board
 * row parity, so each class is itself a regular lattice of 4 squares).
 */
export function toyDataset(name: ToyDatasetName, count: number, noise: NoiseSource, options: ToyDatasetOptions = {}): ToyDataset {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new DiffusionError('invalid-argument', `toyDataset: count must be a positive integer, got ${count}`);
  }
  if (!Object.hasOwn(DEFAULT_STD, name)) {
    throw new DiffusionError('unknown-option', `toyDataset: unknown dataset '${String(name)}' (expected ${Object.keys(DEFAULT_STD).join(', ')})`);
  }
  const std = options.std ?? DEFAULT_STD[name];
  if (!Number.isFinite(std) || std < 0) {
    throw new DiffusionError('invalid-argument', `toyDataset: std must be a non-negative number, got ${std}`);
  }
  const points = new Float32Array(count * 2);
  const labels = new Int32Array(count);
  const jitter = noise.normal([count * 2]);
  const set = (index: number, x: number, y: number): void => {
    points[2 * index] = x + std * (jitter[2 * index] as number);
    points[2 * index + 1] = y + std * (jitter[2 * index + 1] as number);
  };

  switch (name) {
    case 'eight-gaussians': {
      const modes = Array.from({ length: 8 }, (_, mode) => {
        const angle = (mode * Math.PI) / 4;
        return [EIGHT_GAUSSIANS_RADIUS * Math.cos(angle), EIGHT_GAUSSIANS_RADIUS * Math.sin(angle)] as const;
      });
      const chosen = noise.integers(count, 8);
      for (let index = 0; index < count; index += 1) {
        const mode = chosen[index] as number;
        const [x, y] = modes[mode] as readonly [number, number];
        labels[index] = mode;
        set(index, x, y);
      }
      return { name, count, points, labels, numClasses: 8, modes, modeStd: std };
    }
    case 'two-moons': {
      const angles = noise.uniform(count);
      for (let index = 0; index < count; index += 1) {
        const angle = Math.PI * (angles[index] as number);
        const moon = index % 2;
        // 1. make_moons: upper moon (cos, sin), lower moon (1 - cos, 0.5 - sin); 2. centre, scale by 1.5.
        const x = moon === 0 ? Math.cos(angle) : 1 - Math.cos(angle);
        const y = moon === 0 ? Math.sin(angle) : 0.5 - Math.sin(angle);
        labels[index] = moon;
        set(index, 1.5 * (x - 0.5), 1.5 * (y - 0.25));
      }
      return { name, count, points, labels, numClasses: 2 };
    }
    case 'swiss-roll': {
      const positions = noise.uniform(count);
      const scale = 2.5 / (4.5 * Math.PI);
      for (let index = 0; index < count; index += 1) {
        const position = positions[index] as number;
        const angle = 1.5 * Math.PI * (1 + 2 * position);
        labels[index] = Math.min(SWISS_ROLL_CLASSES - 1, Math.floor(position * SWISS_ROLL_CLASSES));
        set(index, scale * angle * Math.cos(angle), scale * angle * Math.sin(angle));
      }
      return { name, count, points, labels, numClasses: SWISS_ROLL_CLASSES };
    }
    case 'checkerboard': {
      const squares = noise.integers(count, 8);
      const offsets = noise.uniform(count * 2);
      for (let index = 0; index < count; index += 1) {
        const square = squares[index] as number;
        const row = Math.floor(square / 2);
        const column = 2 * (square % 2) + (row % 2); // dark squares: row + column even
        labels[index] = row % 2;
        set(index, -2 + column + (offsets[2 * index] as number), -2 + row + (offsets[2 * index + 1] as number));
      }
      return { name, count, points, labels, numClasses: 2 };
    }
  }
}
