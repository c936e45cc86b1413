/** Source taps and weights for one output index along one axis. */
interface Taps {
  readonly indices: Int32Array;
  readonly weights: Float32Array;
}

/**
 * Taps mapping `outSize` outputs onto the source interval [start, start + span): an exact area
 * (box) average when shrinking, bilinear interpolation at pixel centres when enlarging.
 */
function axisTaps(start: number, span: number, sourceSize: number, outSize: number): Taps[] {
  const scale = span / outSize;
  const clamp = (index: number): number => Math.min(sourceSize - 1, Math.max(0, index));
  return Array.from({ length: outSize }, (_, out) => {
    if (scale >= 1) {
      const from = start + out * scale;
      const to = from + scale;
      const indices: number[] = [];
      const weights: number[] = [];
      for (let source = Math.floor(from); source < Math.ceil(to); source += 1) {
        const overlap = Math.min(to, source + 1) - Math.max(from, source);
        if (overlap > 1e-9) {
          indices.push(clamp(source));
          weights.push(overlap / scale);
        }
      }
      return { indices: Int32Array.from(indices), weights: Float32Array.from(weights) };
    }
    const centre = start + (out + 0.5) * scale - 0.5;
    const left = Math.floor(centre);
    const fraction = centre - left;
    return { indices: Int32Array.from([clamp(left), clamp(left + 1)]), weights: Float32Array.from([1 - fraction, fraction]) };
  });
}

/**
 * Resizes an HWC image to cover a `size` x `size` square and crops the centre (area averaging when
 * shrinking, bilinear when enlarging), separably: rows first, then columns.
 */
export function resizeCoverCrop(pixels: Float32Array, width: number, height: number, channels: number, size: number): Float32Array {
  const side = Math.min(width, height);
  const columnTaps = axisTaps((width - side) / 2, side, width, size);
  const rowTaps = axisTaps((height - side) / 2, side, height, size);
  // 1. Horizontal pass: height x size x channels.
  const horizontal = new Float32Array(height * size * channels);
  for (let row = 0; row < height; row += 1) {
    for (let out = 0; out < size; out += 1) {
      const { indices, weights } = columnTaps[out] as Taps;
      for (let channel = 0; channel < channels; channel += 1) {
        let sum = 0;
        for (let tap = 0; tap < indices.length; tap += 1) {
          sum += (weights[tap] as number) * (pixels[(row * width + (indices[tap] as number)) * channels + channel] as number);
        }
        horizontal[(row * size + out) * channels + channel] = sum;
      }
    }
  }
  // 2. Vertical pass: size x size x channels.
  const result = new Float32Array(size * size * channels);
  for (let out = 0; out < size; out += 1) {
    const { indices, weights } = rowTaps[out] as Taps;
    for (let column = 0; column < size; column += 1) {
      for (let channel = 0; channel < channels; channel += 1) {
        let sum = 0;
        for (let tap = 0; tap < indices.length; tap += 1) {
          sum += (weights[tap] as number) * (horizontal[((indices[tap] as number) * size + column) * channels + channel] as number);
        }
        result[(out * size + column) * channels + channel] = sum;
      }
    }
  }
  return result;
}
