import { readFile } from 'node:fs/promises';
import { UsageError } from './cli-error.js';
import type { OptionValues } from './command.js';
import { stringOption } from './options.js';

/** Reads the JSON object in the file an option names (`--config FILE.json`); undefined when the option is absent. */
export async function jsonFileOption(values: OptionValues, name: string): Promise<Record<string, unknown> | undefined> {
  const file = stringOption(values, name);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--${name}: cannot read ${file} (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--${name}: ${file} is not valid JSON (${(error as Error).message})`);
  }
}
