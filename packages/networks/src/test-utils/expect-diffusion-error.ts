import { DiffusionError, type DiffusionErrorCode } from '@tfjs-diffusion/core';

/** Runs `action` and returns the DiffusionError it throws with `code`; throws otherwise. */
export function catchDiffusionError(action: () => unknown, code: DiffusionErrorCode): DiffusionError {
  try {
    action();
  } catch (error) {
    if (error instanceof DiffusionError && error.code === code) return error;
    throw new Error(`expected DiffusionError '${code}', got ${String(error)}`);
  }
  throw new Error(`expected DiffusionError '${code}', nothing was thrown`);
}
