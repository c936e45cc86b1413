// What each large-images runner (a child process) reports about itself.

/** The process's peak resident set so far, in MiB (getrusage's maxrss). */
export const maxRssMiB = (): number => process.resourceUsage().maxRSS / 1024;

/** User + system CPU seconds of the whole process (every thread) so far. */
export const processCpuSeconds = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
};

/** `value` rounded to `digits` decimals. */
export const round = (value: number, digits: number): number => Number(value.toFixed(digits));
