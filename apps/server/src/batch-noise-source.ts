import { DiffusionError, type NoiseSource, type NoiseSourceState } from '@tfjs-diffusion/core';

/** One request's rows of a batch and the noise source they are drawn from. */
export interface NoisePart {
  readonly rows: number;
  readonly source: NoiseSource;
}

/**
 * A NoiseSource for a batch made of several requests: each draw of shape [batch, ...rest] takes
 * the first `rows` rows from the first request's source, the next from the second's, and so on.
 * A request's source thus sees exactly the draws it would see if it were sampled alone, so its
 * samples do not depend on what it was batched with. Only `normal` draws over the batch axis are
 * defined (the samplers' only kind of draw: x_T and per-step noise).
 */
export function createBatchNoiseSource(parts: readonly NoisePart[]): NoiseSource {
  const total = parts.reduce((sum, part) => sum + part.rows, 0);
  const unsupported = (what: string): never => {
    throw new DiffusionError('invalid-argument', `a batch noise source draws only normal noise over the batch axis; ${what} is not supported`);
  };
  return {
    normal(shape) {
      if (shape.length < 1 || shape[0] !== total) {
        throw new DiffusionError('invalid-shape', `batch noise: shape must start with the batch size ${total}, got [${shape.join(', ')}]`);
      }
      const rest = shape.slice(1);
      const rowSize = rest.reduce((product, size) => product * size, 1);
      const values = new Float32Array(total * rowSize);
      let offset = 0;
      for (const part of parts) {
        values.set(part.source.normal([part.rows, ...rest]), offset);
        offset += part.rows * rowSize;
      }
      return values;
    },
    uniform: () => unsupported('uniform()'),
    integers: () => unsupported('integers()'),
    getState: (): NoiseSourceState => unsupported('getState()'),
    setState: () => unsupported('setState()'),
  };
}
