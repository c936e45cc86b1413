import { DiffusionError } from '@tfjs-diffusion/core';
import { type MlpDenoiser, type MlpDenoiserConfig, createMlpDenoiser } from './mlp-denoiser.js';
import {
  type NoiseAwareClassifier,
  type NoiseAwareClassifierConfig,
  createNoiseAwareClassifier,
} from './noise-aware-classifier.js';
import { type UNetModel, createUNet } from './unet.js';
import type { UNetConfig } from './unet-config.js';

/** Any network config, told apart by `type`. */
export type NetworkConfig =
  | (MlpDenoiserConfig & { readonly type: 'mlp' })
  | (UNetConfig & { readonly type: 'unet' })
  | (NoiseAwareClassifierConfig & { readonly type: 'classifier' });

export const NETWORK_TYPES = ['mlp', 'unet', 'classifier'] as const;

/**
 * Builds a network from its JSON config (what a checkpoint stores): 'mlp' (residual MLP denoiser),
 * 'unet' (ADM U-Net, Dhariwal & Nichol 2021) or 'classifier' (ADM noise-aware classifier).
 */
export function createNetwork(config: MlpDenoiserConfig & { readonly type: 'mlp' }): MlpDenoiser;
export function createNetwork(config: UNetConfig & { readonly type: 'unet' }): UNetModel;
export function createNetwork(config: NoiseAwareClassifierConfig & { readonly type: 'classifier' }): NoiseAwareClassifier;
export function createNetwork(config: NetworkConfig | Readonly<Record<string, unknown>>): MlpDenoiser | UNetModel | NoiseAwareClassifier;
export function createNetwork(config: NetworkConfig | Readonly<Record<string, unknown>>): MlpDenoiser | UNetModel | NoiseAwareClassifier {
  const type = typeof config === 'object' && config !== null ? (config as { type?: unknown }).type : undefined;
  switch (type) {
    case 'mlp':
      return createMlpDenoiser(config);
    case 'unet':
      return createUNet(config);
    case 'classifier':
      return createNoiseAwareClassifier(config);
    default:
      throw new DiffusionError(
        'invalid-argument',
        `network config: type must be one of ${NETWORK_TYPES.map((name) => `'${name}'`).join(', ')}, got ${JSON.stringify(type)}`,
      );
  }
}
