import { DiffusionError } from '@tfjs-diffusion/core';

/** Where a model file comes from: a URL (string or URL), bytes, or a browser Blob/File. In Node, `@tfjs-diffusion/pipelines/node` also takes a file path. */
export type PipelineSource = string | URL | Uint8Array | ArrayBuffer | Blob;

/** The bytes of a source and a name for error messages (the URL, the File's name, or '<bytes>'). */
export interface SourceBytes {
  readonly bytes: Uint8Array;
  readonly name: string;
}

/** True for strings that are absolute URLs (http:, https:, data:, blob:, file:). */
export function isUrlString(source: string): boolean {
  return /^(https?|data|blob|file):/i.test(source);
}

/**
 * Reads a source into bytes: a Uint8Array as is, an ArrayBuffer wrapped, a Blob/File read, a URL
 * fetched (in a browser a relative string resolves against the page; Node needs an absolute URL,
 * or the `./node` entry for a path). `signal` aborts the fetch.
 */
export async function readSource(source: PipelineSource, signal?: AbortSignal): Promise<SourceBytes> {
  if (source instanceof Uint8Array) return { bytes: source, name: '<bytes>' };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: '<bytes>' };
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const fileName = (source as unknown as { name?: unknown }).name;
    const name = typeof fileName === 'string' ? fileName : '<blob>';
    return { bytes: new Uint8Array(await source.arrayBuffer()), name };
  }
  if (typeof source === 'string' || source instanceof URL) {
    const text = String(source);
    const browser = typeof (globalThis as { document?: unknown }).document !== 'undefined';
    if (typeof source === 'string' && !browser && !isUrlString(text)) {
      throw new DiffusionError(
        'invalid-argument',
        `loadPipeline: '${text}' is not a URL; to load a file path in Node, import loadPipeline from '@tfjs-diffusion/pipelines/node'`,
      );
    }
    let response: Response;
    try {
      response = await fetch(text, signal ? { signal } : {});
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw new DiffusionError('invalid-argument', `loadPipeline: cannot fetch ${text} (${(error as Error).message})`, { cause: error });
    }
    if (!response.ok) throw new DiffusionError('invalid-checkpoint', `loadPipeline: ${text} answered HTTP ${response.status} ${response.statusText}`);
    return { bytes: new Uint8Array(await response.arrayBuffer()), name: text };
  }
  throw new DiffusionError(
    'invalid-argument',
    `loadPipeline: a source must be a URL, a path (Node), a Uint8Array, an ArrayBuffer or a Blob, got ${source === null ? 'null' : typeof source}`,
  );
}
