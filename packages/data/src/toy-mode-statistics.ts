/** How samples of a mode-based toy dataset (eight-gaussians) sit on its modes. */
export interface ToyModeStatistics {
  /** Share of the samples within `k` standard deviations of their nearest mode. */
  readonly withinFraction: number;
  /** Per mode: the share of all samples within `k` standard deviations of it (uniform coverage: withinFraction / modes). */
  readonly perModeFraction: number[];
}

/**
 * Mode coverage of 2-D samples `[x0, y0, x1, y1, ...]`: each sample is assigned to its nearest mode
 * (Euclidean distance) and counts when that distance is at most `k * modeStd`; a collapsed sampler
 * shows as modes with a share near 0.
 */
export function modeStatistics(samples: Float32Array, modes: readonly (readonly [number, number])[], modeStd: number, k = 3): ToyModeStatistics {
  const perMode = new Array<number>(modes.length).fill(0);
  let near = 0;
  const count = samples.length / 2;
  for (let point = 0; point < count; point += 1) {
    const x = samples[2 * point] as number;
    const y = samples[2 * point + 1] as number;
    let best = Infinity;
    let bestMode = -1;
    modes.forEach(([modeX, modeY], mode) => {
      const distance = Math.hypot(x - modeX, y - modeY);
      if (distance < best) {
        best = distance;
        bestMode = mode;
      }
    });
    if (best <= k * modeStd) {
      near += 1;
      perMode[bestMode] = (perMode[bestMode] as number) + 1;
    }
  }
  return { withinFraction: near / count, perModeFraction: perMode.map((value) => value / count) };
}
