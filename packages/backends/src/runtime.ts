/** Whether this code runs in Node.js (not a browser or a web worker). */
export function isNode(): boolean {
  const nodeProcess = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return typeof nodeProcess?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

/**
 * Imports a module whose name is only known at run time, hidden from bundlers so that an
 * optional backend package that is not installed does not break the user's build.
 */
export function importAtRuntime(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<unknown>;
}

/** The first line of an error's message, for one-line reasons. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/** Whether an import failed because the package is not installed (rather than failing to load). */
export function isNotInstalled(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
  return /Cannot find (package|module)|Could not resolve|Failed to resolve|Failed to fetch dynamically imported module/i.test(describeError(error));
}
