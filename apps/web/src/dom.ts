/** The element with `data-testid="testId"` (the page's stable hooks), checked to be of `type`. */
export function byTestId<T extends HTMLElement>(testId: string, type: new () => T): T {
  const element = document.querySelector(`[data-testid="${testId}"]`);
  if (!(element instanceof type)) throw new Error(`index.html has no ${type.name} with data-testid="${testId}"`);
  return element;
}

/** Reads a number input, clamped to [min, max] and rounded when `integer`; `fallback` when empty or invalid. */
export function numberFrom(input: { readonly value: string }, fallback: number, min: number, max: number, integer = false): number {
  const value = Number(input.value);
  if (input.value.trim() === '' || !Number.isFinite(value)) return fallback;
  const clamped = Math.min(max, Math.max(min, value));
  return integer ? Math.round(clamped) : clamped;
}

/** Lets the browser paint between steps (a macrotask, so it also runs in background tabs). */
export function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A duration for people: "850 ms" or "1.2 s". */
export function formatDuration(milliseconds: number): string {
  return milliseconds < 1000 ? `${Math.round(milliseconds)} ms` : `${(milliseconds / 1000).toFixed(1)} s`;
}

/** An error's message (DiffusionError messages name what was wrong). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
