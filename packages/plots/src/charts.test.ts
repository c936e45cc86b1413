import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { lineChart, scatterPlot, type PngChart } from './node.js';

function decode(chart: PngChart): PNG {
  return PNG.sync.read(chart.toPng());
}

function pixel(png: PNG, x: number, y: number): [number, number, number] {
  const offset = (y * png.width + x) * 4;
  return [png.data[offset] as number, png.data[offset + 1] as number, png.data[offset + 2] as number];
}

/** Pixels in a rectangle that are clearly not the white background. */
function inkCount(png: PNG, x0: number, y0: number, x1: number, y1: number): number {
  let ink = 0;
  for (let y = y0; y < y1; y += 1) {
    for (let x = x0; x < x1; x += 1) {
      const [r, g, b] = pixel(png, x, y);
      if (r + g + b < 600) ink += 1;
    }
  }
  return ink;
}

function countColor(png: PNG, color: readonly number[], tolerance = 40): number {
  let count = 0;
  for (let offset = 0; offset < png.data.length; offset += 4) {
    const distance =
      Math.abs((png.data[offset] as number) - (color[0] as number)) +
      Math.abs((png.data[offset + 1] as number) - (color[1] as number)) +
      Math.abs((png.data[offset + 2] as number) - (color[2] as number));
    if (distance <= tolerance) count += 1;
  }
  return count;
}

describe('lineChart', () => {
  const x = Array.from({ length: 101 }, (_, index) => index / 100);
  const chart = lineChart(
    [
      { x, y: x.map((t) => 1 - t), name: 'linear' },
      { x, y: x.map((t) => Math.cos((t * Math.PI) / 2) ** 2), name: 'cosine' },
    ],
    { yRange: [0, 1], title: 'alphaBar', xTitle: 't / T', yTitle: 'alphaBar' },
  );
  const png = decode(chart);
  const { left, top, bottom, right } = chart.padding;

  it('is exactly the plot area plus its padding', () => {
    expect([png.width, png.height]).toEqual([640 + left + right, 400 + top + bottom]);
    expect(chart.width).toBe(png.width);
  });

  it('draws both axes as dark lines along the plot area, with tick labels and titles outside it', () => {
    // The y axis: a dark vertical line at x = left over the whole height of the plot area.
    let axisRows = 0;
    for (let y = top; y < top + 400; y += 1)
      if (pixel(png, left, y).every((channel) => channel < 120) || pixel(png, left - 1, y).every((channel) => channel < 120)) axisRows += 1;
    expect(axisRows).toBeGreaterThan(390);
    // The x axis: a dark horizontal line at y = top + 400.
    let axisColumns = 0;
    for (let column = left; column < left + 640; column += 1)
      if (pixel(png, column, top + 400).every((channel) => channel < 120) || pixel(png, column, top + 399).every((channel) => channel < 120))
        axisColumns += 1;
    expect(axisColumns).toBeGreaterThan(630);
    // Tick labels and the axis title left of the y axis and below the x axis; the title above.
    expect(inkCount(png, 0, top, left - 4, top + 400)).toBeGreaterThan(300);
    expect(inkCount(png, left, top + 404, left + 640, png.height)).toBeGreaterThan(300);
    expect(inkCount(png, left, 0, left + 640, top - 4)).toBeGreaterThan(50);
  });

  it('draws each series in its colour and lists them in a legend right of the plot', () => {
    expect(countColor(png, [31, 119, 180])).toBeGreaterThan(400);
    expect(countColor(png, [255, 127, 14])).toBeGreaterThan(400);
    const legend = { x0: left + 650, x1: png.width };
    let blueInLegend = 0;
    for (let y = top; y < top + 60; y += 1)
      for (let column = legend.x0; column < legend.x1; column += 1) if (countPixel(pixel(png, column, y), [31, 119, 180])) blueInLegend += 1;
    expect(blueInLegend).toBeGreaterThan(10);
    expect(inkCount(png, legend.x0, top, legend.x1, top + 60)).toBeGreaterThan(100);
  });

  it('has no legend and a narrow right margin when no series has a name', () => {
    const unnamed = lineChart([{ x, y: x }]);
    expect(unnamed.padding.right).toBeLessThan(chart.padding.right);
    expect(decode(unnamed).width).toBe(unnamed.width);
  });
});

function countPixel(rgb: readonly number[], color: readonly number[]): boolean {
  return rgb.every((channel, index) => Math.abs(channel - (color[index] as number)) <= 40);
}

describe('scatterPlot', () => {
  it('draws the layers in their colours inside square axes of the requested size', () => {
    const grey = Array.from({ length: 400 }, (_, index) => [Math.cos(index), Math.sin(index)]).flat();
    const red = Array.from({ length: 200 }, (_, index) => [0.5 * Math.cos(index), 0.5 * Math.sin(index)]).flat();
    const chart = scatterPlot(
      [
        { points: grey, color: [170, 170, 170], name: 'data' },
        { points: Float32Array.from(red), color: [214, 39, 40], name: 'samples' },
      ],
      { size: 300, title: 'toy', xTitle: 'x1', yTitle: 'x2' },
    );
    const png = decode(chart);
    expect([png.width, png.height]).toEqual([300 + chart.padding.left + chart.padding.right, 300 + chart.padding.top + chart.padding.bottom]);
    expect(countColor(png, [214, 39, 40])).toBeGreaterThan(300);
    expect(countColor(png, [170, 170, 170], 12)).toBeGreaterThan(300);
    expect(inkCount(png, 0, chart.padding.top, chart.padding.left - 4, chart.padding.top + 300)).toBeGreaterThan(150);
  });
});
