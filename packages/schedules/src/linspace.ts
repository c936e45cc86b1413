/**
 * `count` evenly spaced values from `start` to `stop` inclusive, computed as NumPy's `linspace`
 * does (start + i * step, with the last value set to `stop` exactly), in float64.
 */
export function linspace(start: number, stop: number, count: number): Float64Array {
  const values = new Float64Array(count);
  if (count === 1) {
    values[0] = start;
    return values;
  }
  // 1. step = (stop - start) / (count - 1), each value start + i * step
  const step = (stop - start) / (count - 1);
  for (let position = 0; position < count; position += 1) values[position] = start + position * step;
  // 2. the endpoint is exact, not start + (count - 1) * step
  values[count - 1] = stop;
  return values;
}
