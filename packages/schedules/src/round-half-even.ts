/**
 * Rounds to the nearest integer with ties to even, as Python's `round` and NumPy's `np.round` do,
 * so that respaced timesteps match improved-diffusion and diffusers exactly (166.5 -> 166, 499.5 -> 500).
 */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction < 0.5) return floor;
  if (fraction > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}
