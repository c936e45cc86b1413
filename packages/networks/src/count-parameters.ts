import type { HasParameters } from './load-parameters.js';

/** The number of scalar parameters of a model (PyTorch's sum(p.numel() for p in net.parameters())). */
export function countParameters(model: HasParameters): number {
  let count = 0;
  for (const variable of model.parameters.values()) count += variable.size;
  return count;
}
