import { lossChart } from '@tfjs-diffusion/plots/node';
import { smoothLoss } from '@tfjs-diffusion/training';

/** Draws the loss curve (grey raw, blue trailing median) to `path`; the y range stops at the 98th percentile. */
export function saveLossPlot(history: readonly number[], path: string, offset = 0): void {
  lossChart(history, { offset, smoothed: { y: smoothLoss(history), name: 'trailing median' } }).save(path);
}
