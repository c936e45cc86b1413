import { writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';

export type Color = readonly [number, number, number];

/** An RGB raster with the few drawing operations the plots need, written out as PNG. */
export class Raster {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Color = [255, 255, 255],
  ) {
    this.pixels = new Uint8Array(width * height * 3);
    for (let offset = 0; offset < this.pixels.length; offset += 3) this.pixels.set(background, offset);
  }

  setPixel(x: number, y: number, color: Color, alpha = 1): void {
    const px = Math.round(x);
    const py = Math.round(y);
    if (px < 0 || py < 0 || px >= this.width || py >= this.height) return;
    const offset = (py * this.width + px) * 3;
    for (let channel = 0; channel < 3; channel += 1) {
      const old = this.pixels[offset + channel] as number;
      this.pixels[offset + channel] = Math.round(old + ((color[channel] as number) - old) * alpha);
    }
  }

  fillRect(x: number, y: number, width: number, height: number, color: Color): void {
    for (let row = Math.max(0, Math.floor(y)); row < Math.min(this.height, y + height); row += 1) {
      for (let column = Math.max(0, Math.floor(x)); column < Math.min(this.width, x + width); column += 1) this.setPixel(column, row, color);
    }
  }

  /** A filled disc, for scatter plots. */
  dot(x: number, y: number, radius: number, color: Color, alpha = 1): void {
    for (let dy = -Math.ceil(radius); dy <= Math.ceil(radius); dy += 1) {
      for (let dx = -Math.ceil(radius); dx <= Math.ceil(radius); dx += 1) {
        if (dx * dx + dy * dy <= radius * radius) this.setPixel(x + dx, y + dy, color, alpha);
      }
    }
  }

  /** A line segment, two pixels wide. */
  line(x0: number, y0: number, x1: number, y1: number, color: Color): void {
    const steps = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let step = 0; step <= steps; step += 1) {
      const x = x0 + ((x1 - x0) * step) / steps;
      const y = y0 + ((y1 - y0) * step) / steps;
      this.setPixel(x, y, color);
      this.setPixel(x + 1, y, color);
    }
  }

  toPng(): Buffer {
    const png = new PNG({ width: this.width, height: this.height, colorType: 2, inputColorType: 2 });
    png.data = Buffer.from(this.pixels.buffer, this.pixels.byteOffset, this.pixels.byteLength);
    return PNG.sync.write(png, { colorType: 2, inputColorType: 2 });
  }

  save(path: string): void {
    writeFileSync(path, this.toPng());
  }
}

/** A categorical palette (Tableau 10). */
export const PALETTE: readonly Color[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];
