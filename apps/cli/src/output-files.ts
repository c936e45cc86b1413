import { accessSync, constants, statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { UsageError } from './cli-error.js';
import type { Command, OptionValues } from './command.js';

/** Options that name a file a command writes: checked before the command does any work. */
export const OUTPUT_FILE_OPTIONS: readonly string[] = ['out', 'plot', 'chain'];

/** The extensions a command's usage promises for an output option, from its 'FILE.png' placeholder ([] = any). */
export function outputExtensions(command: Command, option: string): string[] {
  const placeholder = new RegExp(`--${option} FILE((?:\\.[A-Za-z0-9]+)(?:\\|\\.?[A-Za-z0-9]+)*)`).exec(command.usage);
  if (!placeholder) return [];
  return (placeholder[1] as string).split('|').map((extension) => (extension.startsWith('.') ? extension : `.${extension}`).toLowerCase());
}

function describeType(extensions: readonly string[]): string {
  return extensions.map((extension) => extension.slice(1).toUpperCase()).join(' or ');
}

/**
 * Checks every output file option before any work: the folder exists and is writable, the path is
 * not a folder, and the name ends in an extension the command writes (it never writes PNG bytes to x.jpg).
 */
export function checkOutputFiles(command: Command, values: OptionValues): void {
  for (const option of OUTPUT_FILE_OPTIONS) {
    const path = values[option];
    if (!(option in command.options) || typeof path !== 'string') continue;
    const flag = `--${option} ${path}`;
    if (path.trim() === '') throw new UsageError(`--${option} needs a file name`);
    const extensions = outputExtensions(command, option);
    if (extensions.length > 0 && !extensions.includes(extname(path).toLowerCase())) {
      throw new UsageError(`${flag}: this writes ${describeType(extensions)} only; give a name ending in ${extensions.join(' or ')}`);
    }
    const folder = dirname(resolve(path));
    let folderStat;
    try {
      folderStat = statSync(folder);
    } catch {
      throw new UsageError(`${flag}: the folder ${folder} does not exist (create it first)`);
    }
    if (!folderStat.isDirectory()) throw new UsageError(`${flag}: ${folder} is not a folder`);
    try {
      accessSync(folder, constants.W_OK);
    } catch {
      throw new UsageError(`${flag}: the folder ${folder} is not writable`);
    }
    let target;
    try {
      target = statSync(path);
    } catch {
      continue;
    }
    if (target.isDirectory()) throw new UsageError(`${flag}: that is a folder; give a file name`);
  }
}
