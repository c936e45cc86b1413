/** Kernel times by kernel name, summed from tf.profile (the shape of `@tfjs-diffusion/parallel`'s KernelProfile). */
export type KernelTimes = Readonly<Record<string, { readonly milliseconds: number; readonly calls: number }>>;

export interface ProfileRow {
  readonly kernel: string;
  readonly milliseconds: number;
  readonly calls: number;
  /** Share of the summed kernel time. */
  readonly share: number;
}

/** Kernel rows sorted by time, with their share of the total. */
export function profileRows(profile: KernelTimes): ProfileRow[] {
  const total = Object.values(profile).reduce((sum, entry) => sum + entry.milliseconds, 0) || 1;
  return Object.entries(profile)
    .map(([kernel, { milliseconds, calls }]) => ({
      kernel,
      milliseconds: Math.round(milliseconds * 10) / 10,
      calls,
      share: Math.round((1000 * milliseconds) / total) / 1000,
    }))
    .sort((first, second) => second.milliseconds - first.milliseconds);
}

/** A plain-text table of the rows (top `limit`, the rest summed). */
export function formatProfile(title: string, rows: readonly ProfileRow[], limit = 15): string {
  const shown = rows.slice(0, limit);
  const rest = rows.slice(limit);
  const lines = [`${title}`, `  ${'kernel'.padEnd(24)} ${'ms'.padStart(9)} ${'calls'.padStart(6)} ${'share'.padStart(6)}`];
  for (const row of shown) {
    lines.push(
      `  ${row.kernel.padEnd(24)} ${row.milliseconds.toFixed(1).padStart(9)} ${String(row.calls).padStart(6)} ${(100 * row.share).toFixed(1).padStart(5)}%`,
    );
  }
  if (rest.length > 0) {
    const milliseconds = rest.reduce((sum, row) => sum + row.milliseconds, 0);
    const share = rest.reduce((sum, row) => sum + row.share, 0);
    const calls = rest.reduce((sum, row) => sum + row.calls, 0);
    lines.push(
      `  ${`(${rest.length} others)`.padEnd(24)} ${milliseconds.toFixed(1).padStart(9)} ${String(calls).padStart(6)} ${(100 * share).toFixed(1).padStart(5)}%`,
    );
  }
  return `${lines.join('\n')}\n`;
}
