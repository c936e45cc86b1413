import { writeModelFile, type HostTensor, type ModelFileMetadataInput } from '@tfjs-diffusion/checkpoints';
import { createUNet } from '@tfjs-diffusion/networks';

/** A tiny class-conditional U-Net (8x8, 3 classes) for fast tests. */
export const TINY_NETWORK = {
  type: 'unet',
  imageSize: 8,
  inChannels: 1,
  modelChannels: 8,
  channelMultipliers: [1, 2],
  numResBlocks: 1,
  attentionResolutions: [4],
  numHeads: 1,
  groupNormGroups: 4,
  numClasses: 3,
  variance: 'learned-range',
  seed: 5,
} as const;

/** The tiny model's metadata (format version 1). */
export function tinyMetadata(network: Record<string, unknown> = { ...TINY_NETWORK }): ModelFileMetadataInput {
  return {
    network: { type: 'unet', ...network },
    schedule: { kind: 'cosine', timesteps: 40 },
    prediction: 'epsilon',
    variance: 'learned-range',
    conditioning: { numClasses: 3, nullClass: 3, classNames: ['zero', 'one', 'two'] },
    data: { shape: [8, 8, 1], range: [-1, 1] },
    weights: 'ema',
  };
}

/** The tiny model's random (seeded) weights as host tensors; the output layer is made non-zero so samples depend on the labels. */
export async function tinyTensors(): Promise<Map<string, HostTensor>> {
  const model = createUNet(TINY_NETWORK);
  const tensors = new Map<string, HostTensor>();
  for (const [name, variable] of model.parameters) {
    const data = Float32Array.from(await variable.data());
    if (data.every((value) => value === 0)) data.forEach((_, index) => (data[index] = Math.sin(index + name.length) * 0.05));
    tensors.set(name, { shape: [...variable.shape], data });
  }
  model.dispose();
  return tensors;
}

/** The tiny model file's bytes. */
export async function tinyModelFile(): Promise<Uint8Array> {
  return writeModelFile({ metadata: tinyMetadata(), tensors: await tinyTensors(), extra: { command: 'test' } });
}

/** A tiny noise-aware classifier file for the tiny model (3 classes, same schedule). */
export async function tinyClassifierFile(timesteps = 40): Promise<Uint8Array> {
  const { createNoiseAwareClassifier } = await import('@tfjs-diffusion/networks');
  const network = {
    type: 'classifier',
    imageSize: 8,
    inChannels: 1,
    modelChannels: 8,
    channelMultipliers: [1, 2],
    numResBlocks: 1,
    attentionResolutions: [],
    groupNormGroups: 4,
    numClasses: 3,
    seed: 2,
  };
  const classifier = createNoiseAwareClassifier(network);
  const tensors = new Map<string, HostTensor>();
  for (const [name, variable] of classifier.parameters) {
    const data = Float32Array.from(await variable.data());
    if (data.every((value) => value === 0)) data.forEach((_, index) => (data[index] = Math.cos(index + name.length) * 0.5));
    tensors.set(name, { shape: [...variable.shape], data });
  }
  classifier.dispose();
  return writeModelFile({
    metadata: {
      network,
      schedule: { kind: 'cosine', timesteps },
      prediction: null,
      variance: null,
      conditioning: { numClasses: 3, nullClass: null },
      data: { shape: [8, 8, 1], range: [-1, 1] },
      weights: 'raw',
    },
    tensors,
  });
}
