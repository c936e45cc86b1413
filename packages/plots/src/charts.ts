import type { TopLevelSpec } from 'vega-lite';
import { PALETTE, type Color } from './palette.js';
import { vegaLiteSvg, type ChartPadding } from './vega-svg.js';

/** A chart drawn with Vega-Lite: axes with ticks and titles, a title, a legend naming each series (PNG and files: the ./node entry). */
export interface Chart {
  /** Image size in pixels (plot area plus padding). */
  readonly width: number;
  readonly height: number;
  /** Where the plot area sits inside the image. */
  readonly padding: ChartPadding;
  /** The Vega-Lite spec, data inlined. */
  readonly spec: TopLevelSpec;
  toSvg(): string;
}

/** Axis and chart titles. */
export interface ChartLabels {
  readonly title?: string;
  readonly xTitle?: string;
  readonly yTitle?: string;
}

const PADDING_WITH_LEGEND: ChartPadding = { left: 64, right: 200, top: 36, bottom: 48 };
const PADDING_WITHOUT_LEGEND: ChartPadding = { left: 64, right: 24, top: 36, bottom: 48 };

function cssColor(color: Color): string {
  return `rgb(${color[0]}, ${color[1]}, ${color[2]})`;
}

function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

function range(values: Iterable<number>, padding = 0.05): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const value of values) {
    if (!Number.isFinite(value)) continue;
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  if (!Number.isFinite(low)) return [0, 1];
  if (high === low) return [low - 1, high + 1];
  const pad = (high - low) * padding;
  return [low - pad, high + pad];
}

function makeChart(spec: TopLevelSpec & { width: number; height: number }, padding: ChartPadding): Chart {
  return {
    width: spec.width + padding.left + padding.right,
    height: spec.height + padding.top + padding.bottom,
    padding,
    spec,
    toSvg: () => vegaLiteSvg(spec, padding),
  };
}

const AXIS = {
  grid: true,
  gridColor: '#e4e4e4',
  domainColor: '#333',
  tickColor: '#333',
  labelColor: '#222',
  titleColor: '#222',
  labelFontSize: 11,
  titleFontSize: 12,
};

export interface LineSeries {
  readonly x: readonly number[];
  readonly y: readonly number[];
  readonly color?: Color;
  /** The legend entry; series without a name are drawn but not listed (no legend when none has a name). */
  readonly name?: string;
}

export interface LineChartOptions extends ChartLabels {
  /** Plot-area size in pixels (default 640 x 400). */
  readonly width?: number;
  readonly height?: number;
  /** The y-axis range; values outside it are clipped (default: the data's range). */
  readonly yRange?: [number, number];
}

/** A line chart (Vega-Lite): each series gets the next palette colour unless it names one. */
export function lineChart(series: readonly LineSeries[], options: LineChartOptions = {}): Chart {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const names = series.map((line, index) => line.name ?? `series ${index + 1}`);
  const colors = series.map((line, index) => cssColor(line.color ?? (PALETTE[index % PALETTE.length] as Color)));
  const values = series.flatMap((line, index) =>
    line.x.map((x, point) => ({ x: finiteOrNull(x), y: finiteOrNull(line.y[point]), series: names[index] as string, order: point })),
  );
  const xRange = range(
    series.flatMap((line) => line.x),
    0,
  );
  const yRange = options.yRange ?? range(series.flatMap((line) => line.y));
  const legend = series.some((line) => line.name !== undefined);
  const spec = {
    width,
    height,
    ...(options.title ? { title: { text: options.title, fontSize: 14 } } : {}),
    data: { values },
    mark: { type: 'line', strokeWidth: 1.6, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.xTitle ?? 'x', scale: { domain: xRange, nice: false, zero: false }, axis: AXIS },
      y: { field: 'y', type: 'quantitative', title: options.yTitle ?? 'y', scale: { domain: yRange, nice: false, zero: false }, axis: AXIS },
      color: {
        field: 'series',
        type: 'nominal',
        scale: { domain: names, range: colors },
        legend: legend ? { title: null, labelFontSize: 12, symbolType: 'stroke', symbolStrokeWidth: 3, labelLimit: 180 } : null,
      },
      order: { field: 'order', type: 'quantitative' },
    },
  } as TopLevelSpec & { width: number; height: number };
  return makeChart(spec, legend ? PADDING_WITH_LEGEND : PADDING_WITHOUT_LEGEND);
}

export interface ScatterLayer {
  /** Interleaved x, y. */
  readonly points: Float32Array | readonly number[];
  readonly color?: Color;
  /** The legend entry. */
  readonly name?: string;
  readonly radius?: number;
  readonly alpha?: number;
}

export interface ScatterPlotOptions extends ChartLabels {
  /** Side of the square plot area in pixels (default 560). */
  readonly size?: number;
}

/** A scatter plot (Vega-Lite) of one or more layers, first drawn first, with one square range for both axes. */
export function scatterPlot(layers: readonly ScatterLayer[], options: ScatterPlotOptions = {}): Chart {
  const size = options.size ?? 560;
  const all: number[] = [];
  for (const layer of layers) for (const value of layer.points) all.push(value);
  const domain = range(all);
  const names = layers.map((layer, index) => layer.name ?? `layer ${index + 1}`);
  const legend = layers.some((layer) => layer.name !== undefined);
  const spec = {
    width: size,
    height: size,
    ...(options.title ? { title: { text: options.title, fontSize: 14 } } : {}),
    layer: layers.map((layer, index) => {
      const values: { x: number; y: number; layer: string }[] = [];
      for (let point = 0; point + 1 < layer.points.length; point += 2) {
        values.push({ x: layer.points[point] as number, y: layer.points[point + 1] as number, layer: names[index] as string });
      }
      const radius = layer.radius ?? 1.5;
      return {
        data: { values },
        mark: { type: 'circle', size: Math.PI * radius * radius, opacity: layer.alpha ?? 1, clip: true },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: options.xTitle ?? 'x', scale: { domain, nice: false, zero: false }, axis: AXIS },
          y: { field: 'y', type: 'quantitative', title: options.yTitle ?? 'y', scale: { domain, nice: false, zero: false }, axis: AXIS },
          color: {
            field: 'layer',
            type: 'nominal',
            scale: {
              domain: names,
              range: layers.map((entry, layerIndex) => cssColor(entry.color ?? (PALETTE[layerIndex % PALETTE.length] as Color))),
            },
            legend: legend ? { title: null, labelFontSize: 12, symbolSize: 80, symbolOpacity: 1, labelLimit: 180 } : null,
          },
        },
      };
    }),
  } as TopLevelSpec & { width: number; height: number };
  return makeChart(spec, legend ? PADDING_WITH_LEGEND : PADDING_WITHOUT_LEGEND);
}
