import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** The part of vega-scenegraph's headless SVG renderer used here (vega exports it untyped). */
interface SvgStringRenderer {
  initialize(element: null, width: number, height: number, origin: readonly number[], scaleFactor: number): this;
  render(scene: unknown): this;
  svg(): string;
}

/** Margins around the plot area, in pixels: room for the title, axis labels and titles, and the legend. */
export interface ChartPadding {
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

/**
 * Renders a Vega-Lite spec to SVG without a browser or a DOM: vega-lite compiles it to Vega, vega
 * lays it out (no autosize, so the image is exactly width + left + right by height + top + bottom)
 * and vega-scenegraph's string renderer writes the SVG.
 */
export function vegaLiteSvg(spec: TopLevelSpec & { width: number; height: number }, padding: ChartPadding): string {
  const vegaSpec = compile({ ...spec, autosize: { type: 'none' }, padding } as TopLevelSpec).spec;
  // With inline data, View.run() evaluates the dataflow synchronously (vega's documented behaviour).
  const view = new vega.View(vega.parse(vegaSpec), { renderer: 'none' }).run();
  const width = spec.width + padding.left + padding.right;
  const height = spec.height + padding.top + padding.bottom;
  const renderer = new (vega as unknown as { SVGStringRenderer: new () => SvgStringRenderer }).SVGStringRenderer();
  const svg = renderer
    .initialize(null, width, height, [padding.left, padding.top], 1)
    .render((view.scenegraph() as unknown as { root: unknown }).root)
    .svg();
  view.finalize();
  return svg;
}
