import type { Command } from './command.js';

/**
 * The options a usage text documents, for parseArgs: every line `  --name VALUE  ...` declares a
 * string option, every line `  --name  ...` (two or more spaces, or nothing, after the name) a flag.
 * A command that declares its options this way cannot accept an option its --help does not list.
 */
export function optionsFromUsage(usage: string): Command['options'] {
  const options: Command['options'] = {};
  for (const [, name, value] of usage.matchAll(/^ {2}--([a-z][a-z0-9-]*)( \S)?/gm)) options[name as string] = { type: value ? 'string' : 'boolean' };
  return options;
}
