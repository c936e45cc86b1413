import { selectBackend } from '@tfjs-diffusion/backends/node';
import { BACKEND_NAMES, type BackendChoice, type BackendName } from '@tfjs-diffusion/core';
import { UsageError } from './cli-error.js';
import type { CommandIo, OptionValues } from './command.js';
import { didYouMean } from './did-you-mean.js';

/** The options every command that runs a model takes: --backend NAME and --verbose (the backend's detail). */
export const BACKEND_OPTION = { backend: { type: 'string' }, verbose: { type: 'boolean' } } as const;

/** One short line naming the backend (default), or the whole reason selectBackend gave (--verbose). */
export function describeBackend(choice: BackendChoice, verbose: boolean): string {
  if (verbose) return `backend: ${choice.active} (${choice.reason})`;
  const how = choice.requested === 'auto' ? 'auto' : 'requested';
  const native = /native OpenBLAS kernels:/.test(choice.reason)
    ? ', native CPU kernels'
    : /native kernels unavailable/.test(choice.reason)
      ? ', no native kernels'
      : '';
  return `backend: ${choice.active} (${how}${native}; --verbose says more)`;
}

/**
 * Activates the backend named by --backend, else by TFJS_DIFFUSION_BACKEND, else 'auto'
 * (the fastest that works), and says on stderr which one runs (and with --verbose, why).
 */
export async function activateBackend(values: OptionValues, io: CommandIo): Promise<BackendChoice> {
  const fromOption = values['backend'] as string | undefined;
  const requested = fromOption ?? process.env['TFJS_DIFFUSION_BACKEND'] ?? 'auto';
  if (!(BACKEND_NAMES as readonly string[]).includes(requested)) {
    const source = fromOption === undefined ? 'TFJS_DIFFUSION_BACKEND' : '--backend';
    throw new UsageError(`${source} must be one of ${BACKEND_NAMES.join(', ')}, got '${requested}'${didYouMean(requested, BACKEND_NAMES)}`);
  }
  const choice = await selectBackend(requested as BackendName);
  io.stderr(`${describeBackend(choice, values['verbose'] === true)}\n`);
  return choice;
}
