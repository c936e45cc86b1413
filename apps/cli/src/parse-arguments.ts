import { parseArgs } from 'node:util';
import { UsageError } from './cli-error.js';
import type { Command, OptionValues } from './command.js';
import { didYouMean } from './did-you-mean.js';

/** A value that reads as a negative number: '-5', '-0.5', '-.5', '-1e-3', '-Infinity'. */
const NEGATIVE_NUMBER = /^-(\d|\.\d|Infinity$)/;
/** A value that is itself a string of flags ("--image_size 64 --num_channels 128", convert's --model-flags): it has a space. */
const FLAG_STRING = /^--?\S+\s/;

/**
 * Joins `--name -5` into `--name=-5` for string options, so that a negative value reaches the
 * option's own range check instead of Node's "argument is ambiguous"; the same for a value that is
 * a string of flags (`--model-flags "--image_size 64 ..."`).
 */
function joinNegativeValues(args: readonly string[], options: Command['options']): string[] {
  const joined: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const argument = args[index] as string;
    const next = args[index + 1];
    if (argument === '--') {
      joined.push(...args.slice(index));
      break;
    }
    const name = argument.startsWith('--') && !argument.includes('=') ? argument.slice(2) : undefined;
    if (name !== undefined && options[name]?.type === 'string' && next !== undefined && (NEGATIVE_NUMBER.test(next) || FLAG_STRING.test(next))) {
      joined.push(`${argument}=${next}`);
      index += 1;
    } else {
      joined.push(argument);
    }
  }
  return joined;
}

/**
 * Parses a command's arguments strictly: unknown options are named with the closest known one,
 * an option given twice is refused (never silently the last), negative numbers are values.
 */
export function parseCommandArguments(command: Command, args: readonly string[]): OptionValues {
  const normalised = joinNegativeValues(args, command.options);
  const known = Object.keys(command.options);
  const { tokens } = parseArgs({ args: normalised, options: command.options, strict: false, allowPositionals: true, tokens: true });
  const seen = new Map<string, string>();
  for (const token of tokens) {
    if (token.kind === 'positional') throw new UsageError(`unexpected argument '${token.value}' (options are written --name value)`);
    if (token.kind !== 'option') continue;
    if (!known.includes(token.name)) {
      throw new UsageError(`Unknown option '${token.rawName}'${token.rawName.startsWith('--') ? didYouMean(token.name, known, '--') : ''}`);
    }
    const shown = token.value === undefined ? token.rawName : `${token.rawName} ${token.value}`;
    const earlier = seen.get(token.name);
    // an option declared `multiple` (e.g. worker --model NAME=FILE) may repeat; any other is refused
    if (earlier !== undefined && command.options[token.name]?.multiple !== true)
      throw new UsageError(`--${token.name} was given twice ('${earlier}', then '${shown}'): give it once`);
    seen.set(token.name, shown);
  }
  try {
    return parseArgs({ args: normalised, options: command.options, strict: true, allowPositionals: false }).values as OptionValues;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
