import { PALETTE, Raster, type Color } from './raster.js';

interface Axes {
  readonly raster: Raster;
  toPixel(x: number, y: number): [number, number];
}

const MARGIN = 24;

function drawAxes(width: number, height: number, xRange: [number, number], yRange: [number, number], gridLines = 4): Axes {
  const raster = new Raster(width, height);
  const toPixel = (x: number, y: number): [number, number] => [
    MARGIN + ((x - xRange[0]) / (xRange[1] - xRange[0])) * (width - 2 * MARGIN),
    height - MARGIN - ((y - yRange[0]) / (yRange[1] - yRange[0])) * (height - 2 * MARGIN),
  ];
  const grid: Color = [225, 225, 225];
  for (let line = 0; line <= gridLines; line += 1) {
    const fraction = line / gridLines;
    const [gx] = toPixel(xRange[0] + fraction * (xRange[1] - xRange[0]), 0);
    const [, gy] = toPixel(0, yRange[0] + fraction * (yRange[1] - yRange[0]));
    raster.line(gx, MARGIN, gx, height - MARGIN, grid);
    raster.line(MARGIN, gy, width - MARGIN, gy, grid);
  }
  const axis: Color = [60, 60, 60];
  raster.line(MARGIN, height - MARGIN, width - MARGIN, height - MARGIN, axis);
  raster.line(MARGIN, MARGIN, MARGIN, height - MARGIN, axis);
  return { raster, toPixel };
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

export interface ScatterLayer {
  /** Interleaved x, y. */
  readonly points: Float32Array | readonly number[];
  readonly color?: Color;
  readonly colors?: readonly Color[];
  readonly radius?: number;
  readonly alpha?: number;
}

/** A scatter plot of one or more layers (first drawn first), with a shared square range. */
export function scatterPlot(layers: readonly ScatterLayer[], size = 640): Raster {
  const all: number[] = [];
  for (const layer of layers) for (const value of layer.points) all.push(value);
  const [low, high] = range(all);
  const { raster, toPixel } = drawAxes(size, size, [low, high], [low, high]);
  for (const layer of layers) {
    for (let point = 0; point + 1 < layer.points.length; point += 2) {
      const [px, py] = toPixel(layer.points[point] as number, layer.points[point + 1] as number);
      const color = layer.colors?.[point / 2] ?? layer.color ?? (PALETTE[0] as Color);
      raster.dot(px, py, layer.radius ?? 1.5, color, layer.alpha ?? 1);
    }
  }
  return raster;
}

export interface LineSeries {
  readonly x: readonly number[];
  readonly y: readonly number[];
  readonly color?: Color;
}

/** A line chart; each series gets the next palette colour unless it names one. */
export function lineChart(series: readonly LineSeries[], options: { width?: number; height?: number; yRange?: [number, number] } = {}): Raster {
  const width = options.width ?? 720;
  const height = options.height ?? 480;
  const xRange = range(series.flatMap((line) => line.x), 0);
  const yRange = options.yRange ?? range(series.flatMap((line) => line.y));
  const { raster, toPixel } = drawAxes(width, height, xRange, yRange);
  series.forEach((line, seriesIndex) => {
    const color = line.color ?? (PALETTE[seriesIndex % PALETTE.length] as Color);
    for (let point = 1; point < line.x.length; point += 1) {
      const [x0, y0] = toPixel(line.x[point - 1] as number, line.y[point - 1] as number);
      const [x1, y1] = toPixel(line.x[point] as number, line.y[point] as number);
      if ([x0, y0, x1, y1].every(Number.isFinite)) raster.line(x0, y0, x1, y1, color);
    }
  });
  return raster;
}
