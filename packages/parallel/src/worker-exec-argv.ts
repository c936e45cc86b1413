/**
 * The parent's Node flags for a worker thread, without export-condition flags.
 *
 * A source-resolution condition (`--conditions=@tfjs-diffusion/source`, as vitest passes it) would make
 * the worker import the packages' .ts files, which plain Node cannot run. Node accepts the flag as one
 * word (`--conditions=x`, `-Cx`) or as two (`--conditions x`, `-C x`); both forms are removed whole, so
 * the value of a two-word flag is never left behind as a stray argument.
 */
export function workerExecArgv(parentArgv: readonly string[] = process.execArgv): string[] {
  const kept: string[] = [];
  for (let index = 0; index < parentArgv.length; index++) {
    const flag = parentArgv[index]!;
    if (flag === '--conditions' || flag === '-C') {
      index++; // 1. two words: skip the value as well
      continue;
    }
    if (flag.startsWith('--conditions=') || (flag.startsWith('-C') && flag.length > 2)) continue; // 2. one word
    kept.push(flag);
  }
  return kept;
}
