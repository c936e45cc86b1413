import { lineChart, type Chart } from './charts.js';

export interface LossChartOptions {
  /** Steps before the first entry of the history (a resumed run): entry i is drawn at step offset + i + 1. */
  readonly offset?: number;
  /** A smoothed curve of the same length drawn over the raw one, e.g. a trailing median, and its legend entry. */
  readonly smoothed?: { readonly y: readonly number[]; readonly name: string };
  readonly title?: string;
}

/**
 * The training-loss curve: the loss per step in grey and, when given, its smoothed curve in blue.
 * The y range runs from min(0, lowest loss) to 1.05 x the 98th percentile, so the first steps'
 * large losses do not flatten the rest of the curve.
 */
export function lossChart(history: readonly number[], options: LossChartOptions = {}): Chart {
  const offset = options.offset ?? 0;
  const x = history.map((_, index) => offset + index + 1);
  const sorted = history.filter(Number.isFinite).sort((a, b) => a - b);
  const high = sorted.length ? (sorted[Math.floor(0.98 * (sorted.length - 1))] as number) : 1;
  const low = sorted.length ? Math.min(0, sorted[0] as number) : 0;
  return lineChart(
    [
      { x, y: [...history], color: [200, 200, 200], name: 'loss per step' },
      ...(options.smoothed ? [{ x, y: options.smoothed.y, color: [31, 119, 180] as const, name: options.smoothed.name }] : []),
    ],
    { yRange: [low, high > low ? high * 1.05 : low + 1], title: options.title ?? 'Training loss', xTitle: 'step', yTitle: 'loss' },
  );
}
