import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { parseSafetensors, serializeSafetensors, writeModelFile } from '@tfjs-diffusion/checkpoints';
import { DiffusionError, type DiffusionModel } from '@tfjs-diffusion/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipeline, savePipeline } from './node.js';
import { TINY_NETWORK, tinyClassifierFile, tinyMetadata, tinyModelFile, tinyTensors } from './test-utils/tiny-model.js';

let bytes: Uint8Array;
let directory: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  bytes = await tinyModelFile();
  directory = mkdtempSync(join(tmpdir(), 'pipelines-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

const settings = { labels: [0, 2], steps: 2, seed: 9 } as const;

async function generated(
  source: Parameters<typeof loadPipeline>[0],
  options: Parameters<Awaited<ReturnType<typeof loadPipeline>>['generate']>[0] = settings,
): Promise<Float32Array> {
  const pipeline = await loadPipeline(source);
  try {
    const { images } = await pipeline.generate(options);
    expect(images.shape).toEqual([options.labels?.length ?? options.count, 8, 8, 1]);
    const values = (await images.data()) as Float32Array;
    images.dispose();
    return values;
  } finally {
    pipeline.dispose();
  }
}

async function refusal(file: Uint8Array): Promise<string> {
  try {
    (await loadPipeline(file)).dispose();
  } catch (error) {
    expect(error).toBeInstanceOf(DiffusionError);
    return (error as Error).message;
  }
  throw new Error('the file was accepted');
}

/** The tiny file with one `__metadata__` entry replaced, tensors unchanged. */
function withEntry(key: string, value: string): Uint8Array {
  const parsed = parseSafetensors(bytes);
  return serializeSafetensors(parsed.tensors, { dtype: 'F32', metadata: { ...parsed.metadata, [key]: value } });
}

describe('loadPipeline', () => {
  it('loads the same pipeline from bytes, ArrayBuffer, Blob, a path, a file: URL and an http URL', async () => {
    const reference = await generated(bytes);
    const path = join(directory, 'tiny.safetensors');
    writeFileSync(path, bytes);
    const server = createServer((_, response) => response.end(Buffer.from(bytes)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const copy = bytes.slice();
      for (const source of [copy.buffer, new Blob([copy]), path, pathToFileURL(path), `http://127.0.0.1:${port}/tiny.safetensors`]) {
        expect(await generated(source)).toEqual(reference);
      }
    } finally {
      server.close();
    }
    const pipeline = await loadPipeline(bytes);
    expect(pipeline.metadata.formatVersion).toBe(1);
    expect(pipeline.classNames).toEqual(['zero', 'one', 'two']);
    expect(pipeline.conditioning).toEqual({ kind: 'class', numClasses: 3, nullClass: 3 });
    expect(pipeline.schedule.trainingTimesteps).toBe(40);
    expect(pipeline.dataShape).toEqual([8, 8, 1]);
    pipeline.dispose();
    await expect(loadPipeline(join(directory, 'absent.safetensors'))).rejects.toThrow(
      `model file ${join(directory, 'absent.safetensors')} does not exist`,
    );
  });

  it('names each hostile field and the file, before building anything', async () => {
    const network = { ...TINY_NETWORK } as Record<string, unknown>;
    const cases: [string, string, string][] = [
      ['network', JSON.stringify({ ...network, modelChannels: 4096 }), '<bytes>: __metadata__.network.modelChannels is 4096, outside [1, 2048]'],
      [
        'network',
        JSON.stringify({ ...network, modelChannels: 16 }),
        "<bytes> (its __metadata__.network) does not match the network: shape mismatches: 'input_blocks.0.0.bias' is [8], expected [16]",
      ],
      ['network', JSON.stringify({ ...network, imageSize: 4096 }), '<bytes>: __metadata__.network.imageSize is 4096, outside [1, 1024]'],
      ['schedule', JSON.stringify({ kind: 'cosine', timesteps: 1e9 }), '<bytes>: __metadata__.schedule.timesteps is 1000000000, outside [1, 100000]'],
      ['schedule', JSON.stringify({ kind: 'cosine', timesteps: 40, maxBeta: 7 }), '<bytes>: __metadata__.schedule: '],
      [
        'schedule',
        `{"kind":"cosine","timesteps":40,"offset":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
        '<bytes>: __metadata__.schedule nests 50001 levels deep',
      ],
      [
        'conditioning',
        JSON.stringify({ numClasses: 5, nullClass: 5 }),
        '<bytes>: __metadata__.conditioning says 5 classes, but network.numClasses is 3',
      ],
    ];
    for (const [key, value, message] of cases) expect(await refusal(withEntry(key, value))).toContain(message);
  });

  it('refuses a NaN weight, naming the tensor', async () => {
    const tensors = await tinyTensors();
    const name = 'input_blocks.0.0.weight';
    const weight = tensors.get(name) as { shape: number[]; data: Float32Array };
    const data = Float32Array.from(weight.data);
    data[5] = Number.NaN;
    const parsed = parseSafetensors(bytes);
    parsed.tensors.set(name, { ...weight, dtype: 'F32', data });
    const message = await refusal(serializeSafetensors(parsed.tensors, { dtype: 'F32', metadata: parsed.metadata }));
    expect(message).toContain(`tensor '${name}' holds a non-finite value (NaN at flat index 5)`);
  });

  it('round-trips through savePipeline', async () => {
    const pipeline = await loadPipeline(bytes);
    const saved = await savePipeline(pipeline, pipeline.metadata, { extra: { note: 'copy' } });
    pipeline.dispose();
    expect(await generated(saved)).toEqual(await generated(bytes));
  });
});

describe('generate', () => {
  it('gives the same images for any batchSize, and each image depends only on its own seed', async () => {
    const options = { labels: [0, 1, 2, 1, 0], steps: 3, seed: 4, guidance: 'cfg', scale: 2 } as const;
    const whole = await generated(bytes, { ...options, batchSize: 5 });
    const single = await generated(bytes, { ...options, batchSize: 1 });
    const pairs = await generated(bytes, { ...options, batchSize: 2 });
    expect(single).toEqual(whole);
    expect(pairs).toEqual(whole);
    // image 3 alone, with its seed, is image 3 of the batch
    const alone = await generated(bytes, { ...options, labels: [1], noiseSeeds: ['4/image-3'] });
    expect(alone).toEqual(whole.subarray(3 * 64, 4 * 64));
    expect(whole.subarray(0, 64)).not.toEqual(whole.subarray(4 * 64, 5 * 64));
  });

  it('unconditional: the model sees the null class whatever the labels', async () => {
    const seeds = ['a', 'a', 'a'];
    const conditional = await generated(bytes, { labels: [0, 1, 2], noiseSeeds: seeds, steps: 3 });
    const unconditional = await generated(bytes, { labels: [0, 1, 2], noiseSeeds: seeds, steps: 3, unconditional: true });
    const byCount = await generated(bytes, { count: 3, noiseSeeds: seeds, steps: 3, unconditional: true });
    expect(conditional.subarray(0, 64)).not.toEqual(conditional.subarray(64, 128));
    expect(unconditional.subarray(0, 64)).toEqual(unconditional.subarray(64, 128));
    expect(unconditional.subarray(0, 64)).toEqual(unconditional.subarray(128, 192));
    expect(byCount).toEqual(unconditional);
  });

  it('classifier guidance on the null class steers to the labels (unconditional mode)', async () => {
    const pipeline = await loadPipeline(bytes, { classifier: await tinyClassifierFile() });
    try {
      expect(pipeline.classifier?.numClasses).toBe(3);
      const draw = async (scale: number): Promise<Float32Array> => {
        const { images } = await pipeline.generate({
          labels: [0, 2],
          noiseSeeds: ['s', 's'],
          steps: 3,
          unconditional: true,
          guidance: 'classifier',
          scale,
        });
        const values = (await images.data()) as Float32Array;
        images.dispose();
        return values;
      };
      const unguided = await draw(0);
      const guided = await draw(50);
      // at scale 0 both images are the null-class draw from the same noise; guided, each moves toward its own label
      expect(unguided.subarray(0, 64)).toEqual(unguided.subarray(64, 128));
      expect(guided.subarray(0, 64)).not.toEqual(guided.subarray(64, 128));
    } finally {
      pipeline.dispose();
    }
    await expect(loadPipeline(bytes, { classifier: await tinyClassifierFile(50) })).rejects.toThrow(
      '__metadata__.schedule has 50 timesteps, the denoiser <bytes> 40',
    );
  });

  it('takes a sampler function and a guidance function, and refuses a non-finite sample', async () => {
    const pipeline = await loadPipeline(bytes);
    try {
      const calls: number[] = [];
      const { images } = await pipeline.generate({
        labels: [2],
        steps: 2,
        sampler: async ({ shape, model, schedule }) => {
          calls.push(schedule.timesteps.length, model === pipeline.model ? 1 : 0);
          return tf.zeros([...shape]);
        },
      });
      expect(calls).toEqual([2, 1]);
      expect(Array.from(await images.data()).every((value) => value === 0)).toBe(true);
      images.dispose();
      const poisoned = (model: DiffusionModel): DiffusionModel => ({
        ...model,
        predict: (input) => {
          const output = model.predict(input);
          return { ...output, prediction: tf.mul(output.prediction, Number.NaN) };
        },
      });
      const error = await pipeline.generate({ labels: [0, 1], steps: 2, guidance: poisoned }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DiffusionError);
      expect((error as DiffusionError).code).toBe('non-finite-sample');
      expect((error as Error).message).toContain('image 0 (label 0) has a non-finite value (NaN)');
    } finally {
      pipeline.dispose();
    }
  });

  it('accepts guidance none at scale 0 and refuses what cannot work, by name', async () => {
    const pipeline = await loadPipeline(bytes);
    try {
      const { images } = await pipeline.generate({ labels: [0], steps: 2, guidance: 'none', scale: 0 });
      images.dispose();
      await expect(pipeline.generate({ labels: [0], steps: 2, guidance: 'none', scale: 2 })).rejects.toThrow(
        "scale 2 needs guidance 'cfg' or 'classifier'",
      );
      await expect(pipeline.generate({ labels: [0], steps: 2, guidance: 'classifier' })).rejects.toThrow('needs a noise-aware classifier');
      await expect(pipeline.generate({ labels: [3], steps: 2 })).rejects.toThrow('labels[0] is 3, not a class in [0, 2]');
      await expect(pipeline.generate({ labels: [0], steps: 41 })).rejects.toThrow('steps must be an integer in [1, 40]');
      await expect(pipeline.generate({ count: 2, steps: 2 })).rejects.toThrow('this model is class-conditional');
    } finally {
      pipeline.dispose();
    }
  });
});

describe('model files written by writeModelFile for other networks', () => {
  it('refuses a classifier file as a denoiser, naming the file', async () => {
    const classifier = writeModelFile({
      metadata: {
        ...tinyMetadata(),
        network: { type: 'classifier', imageSize: 8, inChannels: 1, numClasses: 3 },
        prediction: null,
        variance: null,
        conditioning: { numClasses: 3, nullClass: null },
      },
      tensors: new Map(),
    });
    expect(await refusal(classifier)).toContain("<bytes>: __metadata__.network: holds a 'classifier' network, not a denoiser ('unet' or 'mlp')");
  });
});
