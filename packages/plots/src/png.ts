import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import type { Chart } from './charts.js';

/** The bundled font, resolved from this package's own dependency (works from src, dist and an installed tarball). */
const FONT_FILE = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');

/** Rasterises an SVG to PNG with resvg, on a white background, with the bundled DejaVu Sans font (same pixels on every machine). */
export function svgToPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    background: 'white',
    font: { loadSystemFonts: false, fontFiles: [FONT_FILE], defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}

/** A chart that also renders to PNG and saves itself. */
export interface PngChart extends Chart {
  toPng(): Buffer;
  /** Writes the PNG, or the SVG when the path ends in .svg. */
  save(path: string): void;
}

/** Adds PNG rendering (resvg) and saving to a chart. */
export function withPng(chart: Chart): PngChart {
  const toPng = (): Buffer => svgToPng(chart.toSvg());
  return {
    ...chart,
    toPng,
    save: (path) => writeFileSync(path, path.toLowerCase().endsWith('.svg') ? chart.toSvg() : toPng()),
  };
}
