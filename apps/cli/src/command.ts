import type { ParseArgsConfig } from 'node:util';

export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bars) or a log (plain lines). */
  readonly interactive: boolean;
}

export type OptionValues = Record<string, string | boolean | undefined>;

/** One CLI command: its options (parsed strictly, so unknown options are errors) and its body. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  run(values: OptionValues, io: CommandIo): Promise<void>;
}
