import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CLASSIFIER_PATH, DEFAULT_MODEL_PATH, MODELS_DIRECTORY, loadServedModels } from './load-served-model.js';
import { useCpuBackend } from './test-utils/test-models.js';

beforeAll(useCpuBackend);

describe('loadServedModels', () => {
  it('loads every model file with the classifier, reporting each; frees the loaded ones when a later file fails', async () => {
    const loaded: string[] = [];
    const before = tf.memory().numTensors;
    const { models, dispose } = await loadServedModels(
      [
        { name: 'a', path: DEFAULT_MODEL_PATH },
        { name: 'b', path: DEFAULT_MODEL_PATH },
      ],
      DEFAULT_CLASSIFIER_PATH,
      (model, specification) => loaded.push(`${specification.name}:${model.description.numClasses}:${model.description.dataShape.join('x')}`),
    );
    expect(loaded).toEqual(['a:10:28x28x1', 'b:10:28x28x1']);
    expect(models.map((model) => model.description.name)).toEqual(['a', 'b']);
    expect(models.every((model) => model.description.classifierUnavailable === undefined)).toBe(true);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    dispose();
    expect(tf.memory().numTensors).toBe(before);

    const missing = join(MODELS_DIRECTORY, 'absent.safetensors');
    const reported: string[] = [];
    await expect(
      loadServedModels(
        [
          { name: 'a', path: DEFAULT_MODEL_PATH },
          { name: 'gone', path: missing },
        ],
        null,
        (_, specification) => reported.push(specification.name),
      ),
    ).rejects.toThrow(/absent\.safetensors/);
    expect(reported).toEqual(['a']);
    // the first model was freed when the second failed
    expect(tf.memory().numTensors).toBe(before);
  });
});
