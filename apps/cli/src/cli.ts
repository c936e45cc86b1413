import { readFileSync } from 'node:fs';
import { DiffusionError } from '@tfjs-diffusion/core';
import { UsageError } from './cli-error.js';
import type { Command, CommandIo } from './command.js';
import { COMMANDS } from './commands/index.js';
import { didYouMean } from './did-you-mean.js';
import { checkOutputFiles } from './output-files.js';
import { parseCommandArguments } from './parse-arguments.js';

/** This package's version (apps/cli/package.json, one folder up from both src/ and dist/). */
export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

function help(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'usage: tfjs-diffusion <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    "Run 'tfjs-diffusion <command> --help' for a command's options. Commands that run a model also take",
    '--backend NAME and --verbose (how the backend was chosen, and its kernels). --version prints the version.',
    '',
  ].join('\n');
}

/** Runs one CLI invocation and returns the exit code: 0 ok, 1 failure, 2 usage error. */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout(`${cliVersion()}\n`);
    return 0;
  }
  const command: Command | undefined = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    const what = name.startsWith('-') ? `unknown option '${name}' (a command comes first)` : `unknown command '${name}'`;
    const names = COMMANDS.map((candidate) => candidate.name);
    io.stderr(`tfjs-diffusion: ${what}${name.startsWith('-') ? '' : didYouMean(name, names)}\nRun 'tfjs-diffusion --help' for the commands.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    const values = parseCommandArguments(command, rest);
    checkOutputFiles(command, values);
    await command.run(values, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`tfjs-diffusion ${command.name}: ${error.message}\nRun 'tfjs-diffusion ${command.name} --help' for its options.\n`);
      return 2;
    }
    if (error instanceof DiffusionError) {
      io.stderr(`tfjs-diffusion ${command.name}: ${error.message}\n`);
      return 1;
    }
    io.stderr(`tfjs-diffusion ${command.name}: ${(error as Error)?.stack ?? String(error)}\n`);
    return 1;
  }
}
