import { parseArgs } from 'node:util';
import { DiffusionError } from '@tfjs-diffusion/core';
import { UsageError } from './cli-error.js';
import type { Command, CommandIo } from './command.js';
import { COMMANDS } from './commands/index.js';

function help(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'usage: tfjs-diffusion <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    "Run 'tfjs-diffusion <command> --help' for a command's options.",
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
  const command: Command | undefined = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    io.stderr(`tfjs-diffusion: unknown command '${name}'\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    let values;
    try {
      ({ values } = parseArgs({ args: [...rest], options: command.options, strict: true, allowPositionals: false }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    await command.run(values as Record<string, string | boolean | undefined>, io);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`tfjs-diffusion ${command.name}: ${error.message}\n\n${command.usage}\n`);
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
