import type { OptionValues } from './command.js';

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The command line that reproduces these parsed options (options in the order given). */
export function commandLine(command: string, values: OptionValues): string {
  const words = ['tfjs-diffusion', command];
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === false) continue;
    words.push(`--${name}`);
    if (typeof value === 'string') words.push(value);
  }
  return words.map(shellQuote).join(' ');
}
