import { beforeAll, describe, expect, it } from 'vitest';
import { countParameters } from './count-parameters.js';
import { createNetwork } from './network-factory.js';
import { useCpuBackend } from './test-utils/cpu-backend.js';
import { catchDiffusionError } from './test-utils/expect-diffusion-error.js';

beforeAll(useCpuBackend);

describe('createNetwork', () => {
  it('dispatches on type and rebuilds a network from its resolved config', () => {
    const mlp = createNetwork({ type: 'mlp', dataDimension: 2, hiddenSize: 8, hiddenLayers: 1 });
    expect(mlp.config.type).toBe('mlp');
    const unet = createNetwork({
      type: 'unet',
      imageSize: 8,
      inChannels: 1,
      modelChannels: 8,
      channelMultipliers: [1],
      numResBlocks: 1,
      groupNormGroups: 4,
    });
    expect('predict' in unet).toBe(true);
    const again = createNetwork(JSON.parse(JSON.stringify(unet.config)) as Record<string, unknown>);
    expect(countParameters(again)).toBe(countParameters(unet));
    const classifier = createNetwork({
      type: 'classifier',
      imageSize: 8,
      inChannels: 1,
      modelChannels: 8,
      channelMultipliers: [1],
      numResBlocks: 1,
      groupNormGroups: 4,
      numClasses: 2,
      pool: 'adaptive',
    });
    expect(classifier.numClasses).toBe(2);
    for (const network of [mlp, unet, again, classifier]) network.dispose();
  });

  it('rejects an unknown or missing type', () => {
    expect(catchDiffusionError(() => createNetwork({ type: 'transformer' }), 'invalid-argument').message).toMatch(
      /type must be one of 'mlp', 'unet', 'classifier', got "transformer"/,
    );
    expect(catchDiffusionError(() => createNetwork({ dataDimension: 2 }), 'invalid-argument').message).toMatch(/got undefined/);
  });
});
