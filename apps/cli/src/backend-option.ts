import { selectBackend } from '@tfjs-diffusion/backends/node';
import { BACKEND_NAMES, type BackendChoice, type BackendName } from '@tfjs-diffusion/core';
import { UsageError } from './cli-error.js';
import type { CommandIo, OptionValues } from './command.js';

export const BACKEND_OPTION = { backend: { type: 'string' } } as const;

/**
 * Activates the backend named by --backend, else by TFJS_DIFFUSION_BACKEND, else 'auto'
 * (the fastest that works), and says on stderr which one runs and why.
 */
export async function activateBackend(values: OptionValues, io: CommandIo): Promise<BackendChoice> {
  const requested = (values['backend'] as string | undefined) ?? process.env['TFJS_DIFFUSION_BACKEND'] ?? 'auto';
  if (!(BACKEND_NAMES as readonly string[]).includes(requested)) {
    throw new UsageError(`--backend must be one of ${BACKEND_NAMES.join(', ')}, got '${requested}'`);
  }
  const choice = await selectBackend(requested as BackendName);
  io.stderr(`backend: ${choice.active} (${choice.reason})\n`);
  return choice;
}
