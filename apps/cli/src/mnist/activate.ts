import type { BackendChoice } from '@tfjs-diffusion/core';
import { activateBackend } from '../backend-option.js';
import type { CommandIo, OptionValues } from '../command.js';

/** activateBackend for the image commands (the backends package registers the wasm kernels they need). */
export async function activateImageBackend(values: OptionValues, io: CommandIo): Promise<BackendChoice> {
  const choice = await activateBackend(values, io);
  return choice;
}
