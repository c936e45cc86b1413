import type { BackendName } from '@tfjs-diffusion/core';

import { parseBackendName } from './backend-selection.js';

/** The environment variable that names the backend an app should use. */
export const BACKEND_ENVIRONMENT_VARIABLE = 'TFJS_DIFFUSION_BACKEND';

/**
 * The backend named by TFJS_DIFFUSION_BACKEND (undefined when unset or empty, or outside Node);
 * throws DiffusionError('unknown-option') for a name that is not a backend. Apps call
 * `selectBackend(backendFromEnvironment() ?? 'auto')`; the library never reads it by itself.
 */
export function backendFromEnvironment(
  environment: Readonly<Record<string, string | undefined>> | undefined = (globalThis as { process?: { env?: Record<string, string | undefined> } })
    .process?.env,
): BackendName | undefined {
  const value = environment?.[BACKEND_ENVIRONMENT_VARIABLE];
  if (value === undefined || value.trim() === '') return undefined;
  return parseBackendName(value, BACKEND_ENVIRONMENT_VARIABLE);
}
