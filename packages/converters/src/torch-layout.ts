import { DiffusionError } from '@tfjs-diffusion/core';

/** The label-embedding table that gets the extra (null) row. */
export const LABEL_EMBEDDING = 'label_emb.weight';

function isEmbeddingTable(name: string): boolean {
  return name === LABEL_EMBEDDING || name.endsWith('positional_embedding');
}

/**
 * The PyTorch state_dict shape of a parameter whose tfjs-diffusion shape is `shape`: conv HWIO
 * [kh, kw, in, out] <- OIHW [out, in, kh, kw]; 1x1 conv1d [1, in, out] <- [out, in, 1]; dense
 * [in, out] <- nn.Linear [out, in]; label_emb has one row less (no null label); norms, biases
 * and positional embeddings keep their shape.
 */
export function torchShapeOf(name: string, shape: readonly number[]): number[] {
  switch (shape.length) {
    case 4:
      return [shape[3], shape[2], shape[0], shape[1]] as number[];
    case 3:
      return [shape[2], shape[1], shape[0]] as number[];
    case 2:
      if (name === LABEL_EMBEDDING) return [(shape[0] as number) - 1, shape[1] as number];
      return isEmbeddingTable(name) ? [...shape] : [shape[1] as number, shape[0] as number];
    default:
      return [...shape];
  }
}

/**
 * Rearranges one PyTorch tensor (row-major `data` of `torchShape`) into the tfjs layout `shape`
 * (see `torchShapeOf`); the label embedding gets an all-zero last row. Returns a new array.
 */
export function toTfjsLayout(name: string, data: Float32Array, torchShape: readonly number[], shape: readonly number[]): Float32Array {
  const expected = torchShapeOf(name, shape);
  if (torchShape.length !== expected.length || torchShape.some((size, axis) => size !== expected[axis])) {
    throw new DiffusionError(
      'invalid-checkpoint',
      `tensor ${name} has shape [${torchShape.join(', ')}], the flags describe [${expected.join(', ')}] (PyTorch layout)`,
    );
  }
  const out = new Float32Array(shape.reduce((product, size) => product * size, 1));
  if (shape.length === 4) {
    // 1. OIHW [o, i, y, x] -> HWIO [y, x, i, o]
    const [kh, kw, inChannels, outChannels] = shape as [number, number, number, number];
    for (let o = 0; o < outChannels; o += 1) {
      for (let i = 0; i < inChannels; i += 1) {
        for (let y = 0; y < kh; y += 1) {
          for (let x = 0; x < kw; x += 1) {
            out[((y * kw + x) * inChannels + i) * outChannels + o] = data[((o * inChannels + i) * kh + y) * kw + x] as number;
          }
        }
      }
    }
  } else if (shape.length === 3 || (shape.length === 2 && !isEmbeddingTable(name))) {
    // 2. conv1d [o, i, 1] and linear [o, i] -> [.., i, o]: a transpose
    const inChannels = shape[shape.length - 2] as number;
    const outChannels = shape[shape.length - 1] as number;
    for (let o = 0; o < outChannels; o += 1) {
      for (let i = 0; i < inChannels; i += 1) out[i * outChannels + o] = data[o * inChannels + i] as number;
    }
  } else {
    // 3. same layout; label_emb's extra row stays zero
    out.set(data);
  }
  return out;
}
