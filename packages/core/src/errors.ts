/**
 * The one error class of tfjs-diffusion. `code` is stable and machine readable; `message` names
 * what was wrong (the option, the file, the shape) so that a user can fix it without reading code.
 */
export class DiffusionError extends Error {
  readonly code: DiffusionErrorCode;

  constructor(code: DiffusionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiffusionError';
    this.code = code;
  }
}

export type DiffusionErrorCode =
  | 'invalid-argument'
  | 'invalid-shape'
  | 'invalid-schedule'
  | 'invalid-checkpoint'
  | 'unknown-option'
  | 'backend-unavailable'
  | 'non-finite-loss'
  | 'non-finite-sample'
  | 'data-error';

/** Throws `DiffusionError('invalid-shape')` unless `shape` equals `expected` (-1 matches any size). */
export function assertShape(shape: readonly number[], expected: readonly number[], what: string): void {
  const matches = shape.length === expected.length && expected.every((size, axis) => size === -1 || size === shape[axis]);
  if (!matches) {
    const pretty = expected.map((size) => (size === -1 ? '?' : String(size))).join(', ');
    throw new DiffusionError('invalid-shape', `${what} must have shape [${pretty}], got [${shape.join(', ')}]`);
  }
}
