import { smoothLoss } from '@tfjs-diffusion/training';
import { lineChart } from '../plot/charts.js';

/** Draws the loss curve (grey raw, blue trailing median) to `path`; the y range stops at the 98th percentile. */
export function saveLossPlot(history: readonly number[], path: string, offset = 0): void {
  const x = history.map((_, index) => offset + index + 1);
  const sorted = [...history].filter(Number.isFinite).sort((a, b) => a - b);
  const high = sorted.length ? (sorted[Math.floor(0.98 * (sorted.length - 1))] as number) : 1;
  const low = sorted.length ? Math.min(0, sorted[0] as number) : 0;
  lineChart(
    [
      { x, y: [...history], color: [200, 200, 200], name: 'loss per step' },
      { x, y: smoothLoss(history), color: [31, 119, 180], name: 'trailing median' },
    ],
    { yRange: [low, high > low ? high * 1.05 : low + 1], title: 'Training loss', xTitle: 'step', yTitle: 'loss' },
  ).save(path);
}
