// Node-only entry: `@tfjs-diffusion/plots/node`, the browser-safe API with charts that also render
// to PNG (resvg with the bundled DejaVu Sans font) and save to files.
import * as charts from './index.js';
import { withPng, type PngChart } from './png.js';

export * from './index.js';
export { svgToPng, withPng, type PngChart } from './png.js';

/** A line chart (Vega-Lite) that renders to PNG and saves itself; see the main entry's lineChart. */
export function lineChart(...args: Parameters<typeof charts.lineChart>): PngChart {
  return withPng(charts.lineChart(...args));
}

/** A scatter plot (Vega-Lite) that renders to PNG and saves itself; see the main entry's scatterPlot. */
export function scatterPlot(...args: Parameters<typeof charts.scatterPlot>): PngChart {
  return withPng(charts.scatterPlot(...args));
}

/** The training-loss chart that renders to PNG and saves itself; see the main entry's lossChart. */
export function lossChart(...args: Parameters<typeof charts.lossChart>): PngChart {
  return withPng(charts.lossChart(...args));
}
