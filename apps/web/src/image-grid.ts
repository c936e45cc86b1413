/** How to lay out square grayscale images on a canvas. */
export interface GridLayout {
  /** Images per row. */
  readonly columns: number;
  /** Side of one image in data pixels (28 for MNIST). */
  readonly imageSize: number;
  /** Canvas pixels per data pixel. */
  readonly scale: number;
  /** Canvas pixels between images. */
  readonly gap: number;
}

/**
 * Draws `count` grayscale images (values in [-1, 1], image after image, row-major) as a grid,
 * resizing the canvas to fit. Values outside [-1, 1] (x_t early on) are clipped for display.
 */
export function drawImageGrid(canvas: HTMLCanvasElement, values: Float32Array, count: number, layout: GridLayout): void {
  const { imageSize, scale, gap } = layout;
  const columns = Math.max(1, Math.min(layout.columns, count));
  const rows = Math.max(1, Math.ceil(count / columns));
  const cell = imageSize * scale;
  canvas.width = columns * cell + (columns - 1) * gap;
  canvas.height = rows * cell + (rows - 1) * gap;
  const context = canvas.getContext('2d');
  if (!context) return;
  const image = context.createImageData(canvas.width, canvas.height);
  const pixels = image.data;
  const pixelsPerImage = imageSize * imageSize;
  for (let index = 0; index < pixels.length; index += 4) pixels[index + 3] = 255;
  for (let imageIndex = 0; imageIndex < count; imageIndex += 1) {
    const left = (imageIndex % columns) * (cell + gap);
    const top = Math.floor(imageIndex / columns) * (cell + gap);
    for (let row = 0; row < cell; row += 1) {
      for (let column = 0; column < cell; column += 1) {
        const value = values[imageIndex * pixelsPerImage + Math.floor(row / scale) * imageSize + Math.floor(column / scale)] ?? -1;
        const gray = Math.round(((Math.min(1, Math.max(-1, value)) + 1) / 2) * 255);
        const offset = ((top + row) * canvas.width + left + column) * 4;
        pixels[offset] = gray;
        pixels[offset + 1] = gray;
        pixels[offset + 2] = gray;
      }
    }
  }
  context.putImageData(image, 0, 0);
}
