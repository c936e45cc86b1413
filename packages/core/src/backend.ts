/** Backends a user can ask for. 'auto' picks the fastest that works and says which it chose. */
export type BackendName = 'auto' | 'cpu' | 'wasm' | 'webgpu' | 'webgl' | 'tensorflow';

export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'cpu', 'wasm', 'webgpu', 'webgl', 'tensorflow'];

/** The outcome of choosing a backend. */
export interface BackendChoice {
  readonly requested: BackendName;
  /** The tfjs backend name now active ('cpu', 'wasm', 'webgpu', 'webgl', 'tensorflow'). */
  readonly active: string;
  /** Why this one: the request itself, or what auto tried and why the others failed. */
  readonly reason: string;
}
