/** Formats seconds as 1h02m, 3m05s or 12s. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

export interface ProgressReport {
  readonly step: number;
  readonly totalSteps: number;
  readonly loss: number;
  /** Steps per second over the steps of this run; default: (step - startStep) over the seconds since the reporter was created. */
  readonly stepsPerSecond?: number;
  /** The step this run started from (a resumed run), for the default steps per second. */
  readonly startStep?: number;
  readonly extra?: string;
}

/**
 * A progress reporter: a one-line bar redrawn with '\r' on a terminal, plain lines (every
 * `every` steps and at the end) in a log.
 */
export function createProgress(write: (text: string) => void, interactive: boolean, every: number) {
  const started = performance.now();
  let drawn = false;
  const elapsed = () => (performance.now() - started) / 1000;
  const endLine = () => {
    if (drawn) write('\n');
    drawn = false;
  };
  return {
    /** Seconds since the reporter was created. */
    elapsed,
    update(report: ProgressReport): void {
      const { step, totalSteps, loss } = report;
      const stepsPerSecond = report.stepsPerSecond ?? (step - (report.startStep ?? 0)) / elapsed();
      const remaining = stepsPerSecond > 0 ? (totalSteps - step) / stepsPerSecond : Number.NaN;
      const text =
        `step ${step}/${totalSteps}  loss ${loss.toFixed(4)}  ${stepsPerSecond.toFixed(2)} steps/s  ETA ${formatDuration(remaining)}` +
        (report.extra ? `  ${report.extra}` : '');
      if (interactive) {
        const width = 24;
        const filled = Math.round((width * step) / Math.max(1, totalSteps));
        write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
        drawn = true;
      } else if (step % every === 0 || step === totalSteps) {
        write(`${text}\n`);
      }
    },
    /** Ends the bar's line before other output. */
    break: endLine,
    /** Ends the bar's line and writes one line of text. */
    say(line: string): void {
      endLine();
      write(`${line}\n`);
    },
  };
}
