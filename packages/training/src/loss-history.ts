/** What a checkpoint records about the loss history besides the history itself. */
export interface LossSummary {
  readonly count: number;
  readonly first: number | null;
  readonly last: number | null;
  readonly meanOfLast100: number | null;
  readonly min: number | null;
}

/** The mean of the last `count` losses (null for an empty history). */
export function meanOfLast(history: readonly number[], count: number): number | null {
  const tail = history.slice(-count);
  return tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : null;
}

/** Count, first, last, minimum and the mean of the last 100 losses. */
export function lossSummary(history: readonly number[]): LossSummary {
  return {
    count: history.length,
    first: history[0] ?? null,
    last: history[history.length - 1] ?? null,
    meanOfLast100: meanOfLast(history, 100),
    min: history.length ? history.reduce((a, b) => Math.min(a, b), Infinity) : null,
  };
}

/**
 * Smoothed loss: the median of the trailing `window` finite steps (robust to the L_vlb spikes of
 * the hybrid loss of Improved DDPM); NaN where the window holds no finite value.
 */
export function smoothLoss(history: readonly number[], window = Math.max(5, Math.round(history.length / 50))): number[] {
  return history.map((_, index) => {
    const recent = history
      .slice(Math.max(0, index + 1 - window), index + 1)
      .filter(Number.isFinite)
      .sort((a, b) => a - b);
    if (recent.length === 0) return Number.NaN;
    const middle = recent.length >> 1;
    return recent.length % 2 === 1 ? (recent[middle] as number) : ((recent[middle - 1] as number) + (recent[middle] as number)) / 2;
  });
}
