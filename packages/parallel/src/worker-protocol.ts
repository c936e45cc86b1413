import type { AdamOptions } from '@tfjs-diffusion/training';
import type { FlatGradient, KernelProfile, UNetBatch } from './unet-replica.js';

/** What the host asks a replica worker to do; each request carries an id its reply repeats. */
export type ReplicaRequest =
  | { readonly type: 'init'; readonly backend: string; readonly config: Readonly<Record<string, unknown>>; readonly adam: AdamOptions }
  | { readonly type: 'gradient'; readonly batch: UNetBatch }
  | { readonly type: 'apply'; readonly gradient: Float32Array; readonly learningRate: number }
  | { readonly type: 'predict'; readonly batch: UNetBatch }
  | { readonly type: 'get-parameters' }
  | { readonly type: 'set-parameters'; readonly parameters: Float32Array }
  | { readonly type: 'profile'; readonly kind: 'train' | 'eval'; readonly batch: UNetBatch }
  | { readonly type: 'dispose' };

/** What each request type answers. */
export interface ReplicaReplies {
  init: { readonly parameterCount: number; readonly backend: string; readonly reason: string };
  gradient: FlatGradient;
  apply: null;
  predict: Float32Array;
  'get-parameters': Float32Array;
  'set-parameters': null;
  profile: KernelProfile;
  dispose: null;
}

export type ReplyMessage =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly stack?: string };

/** The transferable buffers of a reply or request (typed arrays that own their whole buffer). */
export function transferables(value: unknown): ArrayBuffer[] {
  const found = new Set<ArrayBuffer>();
  const visit = (item: unknown): void => {
    if (ArrayBuffer.isView(item)) {
      if (item.byteOffset === 0 && item.byteLength === item.buffer.byteLength && item.buffer instanceof ArrayBuffer) found.add(item.buffer);
    } else if (item !== null && typeof item === 'object') {
      for (const child of Object.values(item as Record<string, unknown>)) visit(child);
    }
  };
  visit(value);
  return [...found];
}
