// Browser-safe entry: charts as Vega-Lite specs and SVG. PNG rendering and files: `@tfjs-diffusion/plots/node`.
export {
  lineChart,
  scatterPlot,
  type Chart,
  type ChartLabels,
  type LineSeries,
  type LineChartOptions,
  type ScatterLayer,
  type ScatterPlotOptions,
} from './charts.js';
export { lossChart, type LossChartOptions } from './loss-chart.js';
export { PALETTE, type Color } from './palette.js';
export { vegaLiteSvg, type ChartPadding } from './vega-svg.js';
