import { DiffusionError } from '@tfjs-diffusion/core';
import { type MlpDenoiser, type MlpDenoiserConfig, createMlpDenoiser } from './mlp-denoiser.js';
import { type NoiseAwareClassifier, type NoiseAwareClassifierConfig, createNoiseAwareClassifier } from './noise-aware-classifier.js';
import { type NetworkBuildOptions, type UNetModel, createUNet } from './unet.js';
import type { UNetConfig } from './unet-config.js';

/** Any network config, told apart by `type`. */
export type NetworkConfig =
  | (MlpDenoiserConfig & { readonly type: 'mlp' })
  | (UNetConfig & { readonly type: 'unet' })
  | (NoiseAwareClassifierConfig & { readonly type: 'classifier' });

export const NETWORK_TYPES = ['mlp', 'unet', 'classifier'] as const;

/**
 * Builds a network from its JSON config (what a checkpoint stores): 'mlp' (residual MLP denoiser),
 * 'unet' (ADM U-Net, Dhariwal & Nichol 2021) or 'classifier' (ADM noise-aware classifier);
 * `options.parameterSource` supplies the weights instead of a random initialisation.
 */
export function createNetwork(config: MlpDenoiserConfig & { readonly type: 'mlp' }, options?: NetworkBuildOptions): MlpDenoiser;
export function createNetwork(config: UNetConfig & { readonly type: 'unet' }, options?: NetworkBuildOptions): UNetModel;
export function createNetwork(
  config: NoiseAwareClassifierConfig & { readonly type: 'classifier' },
  options?: NetworkBuildOptions,
): NoiseAwareClassifier;
export function createNetwork(
  config: NetworkConfig | Readonly<Record<string, unknown>>,
  options?: NetworkBuildOptions,
): MlpDenoiser | UNetModel | NoiseAwareClassifier;
export function createNetwork(
  config: NetworkConfig | Readonly<Record<string, unknown>>,
  options: NetworkBuildOptions = {},
): MlpDenoiser | UNetModel | NoiseAwareClassifier {
  const type = typeof config === 'object' && config !== null ? (config as { type?: unknown }).type : undefined;
  switch (type) {
    case 'mlp':
      return createMlpDenoiser(config, options);
    case 'unet':
      return createUNet(config, options);
    case 'classifier':
      return createNoiseAwareClassifier(config, options);
    default:
      throw new DiffusionError(
        'invalid-argument',
        `network config: type must be one of ${NETWORK_TYPES.map((name) => `'${name}'`).join(', ')}, got ${JSON.stringify(type)}`,
      );
  }
}

/**
 * Every parameter's name and tfjs-layout shape for a network config, in creation order, computed
 * without allocating a tensor (a ParameterStore shape probe): for checking a file's tensors
 * against its config, or a converter's output, at any size (a 500 M-parameter U-Net in milliseconds).
 */
export function parameterShapes(config: NetworkConfig | Readonly<Record<string, unknown>>): Map<string, number[]> {
  const probe = new Map<string, number[]>();
  createNetwork(config, { shapeProbe: probe });
  return probe;
}
