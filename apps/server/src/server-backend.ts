import { parseBackendName, selectBackend } from '@tfjs-diffusion/backends/node';
import { DiffusionError, type BackendChoice, type BackendName } from '@tfjs-diffusion/core';

/** What 'auto' tries on a server, in order: a real GPU first, then the fastest CPU backend. */
export const SERVER_AUTO_ORDER = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

/**
 * Activates the backend for serving. A named one is selectBackend's; 'auto' tries tfjs-node
 * (tfjs-node-gpu when installed), then WebGPU through Dawn on a hardware adapter only (never the
 * SwiftShader emulation), then wasm, then cpu, and says what it tried.
 */
export async function selectServerBackend(name: BackendName | string = 'auto'): Promise<BackendChoice> {
  const requested = parseBackendName(String(name));
  if (requested !== 'auto') return selectBackend(requested);
  const failures: string[] = [];
  for (const candidate of SERVER_AUTO_ORDER) {
    try {
      const choice = await selectBackend(candidate, candidate === 'webgpu' ? { softwareWebgpu: false } : {});
      const tried = failures.length === 0 ? '' : `; tried first: ${failures.join('; ')}`;
      const detail = choice.reason.replace(`requested '${candidate}': `, '');
      return { requested, active: choice.active, reason: `auto chose '${candidate}': ${detail}${tried}` };
    } catch (error) {
      failures.push(`${candidate}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new DiffusionError('backend-unavailable', `no backend could be started: ${failures.join('; ')}`);
}
