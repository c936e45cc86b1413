import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { lossChart as lossChartSpec } from './index.js';
import { lossChart } from './node.js';

interface Encoding {
  readonly x: { readonly scale: { readonly domain: readonly number[] } };
  readonly y: { readonly scale: { readonly domain: readonly number[] } };
  readonly color: { readonly scale: { readonly domain: readonly string[] } };
}

describe('lossChart', () => {
  // 100 steps falling from 1 to 0.01 plus one spike of 50 at step 10: the spike lies above the 98th percentile.
  const history = Array.from({ length: 100 }, (_, index) => (index === 9 ? 50 : 1 - index / 101));
  const sorted = [...history].sort((a, b) => a - b);
  const percentile98 = sorted[Math.floor(0.98 * 99)] as number;

  it('clips the y range at 1.05 x the 98th percentile and numbers the steps after the offset', () => {
    const chart = lossChartSpec(history, { offset: 200 });
    const encoding = (chart.spec as unknown as { encoding: Encoding }).encoding;
    expect(encoding.y.scale.domain).toEqual([0, percentile98 * 1.05]);
    expect(encoding.y.scale.domain[1]).toBeLessThan(1.1);
    expect(encoding.x.scale.domain).toEqual([201, 300]);
    expect(encoding.color.scale.domain).toEqual(['loss per step']);
  });

  it('draws the smoothed curve as a second named series', () => {
    const chart = lossChartSpec(history, { smoothed: { y: history.map(() => 0.5), name: 'trailing median' } });
    const encoding = (chart.spec as unknown as { encoding: Encoding }).encoding;
    expect(encoding.color.scale.domain).toEqual(['loss per step', 'trailing median']);
    expect(encoding.x.scale.domain).toEqual([1, 100]);
  });

  it('takes min(0, lowest loss) as the bottom and a unit range for an empty history', () => {
    const negative = lossChartSpec([-2, 1, 3]);
    expect((negative.spec as unknown as { encoding: Encoding }).encoding.y.scale.domain[0]).toBe(-2);
    expect((lossChartSpec([]).spec as unknown as { encoding: Encoding }).encoding.y.scale.domain).toEqual([0, 1.05]);
  });

  it('saves an SVG or a PNG of the chart size by the file name', () => {
    const folder = mkdtempSync(join(tmpdir(), 'plots-'));
    const chart = lossChart(history);
    chart.save(join(folder, 'loss.svg'));
    chart.save(join(folder, 'loss.png'));
    const svg = readFileSync(join(folder, 'loss.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[^>]* width="\d+"/);
    expect(svg).toContain('Training loss');
    const png = PNG.sync.read(readFileSync(join(folder, 'loss.png')));
    expect([png.width, png.height]).toEqual([chart.width, chart.height]);
  });
});
