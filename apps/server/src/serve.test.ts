import * as tf from '@tensorflow/tfjs-core';
import pino from 'pino';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type ServingServer } from './serve.js';
import { parseServerConfiguration, type ServerConfiguration } from './server-configuration.js';
import { postSamples } from './test-utils/http-client.js';

let server: ServingServer;
let tensorsBefore = 0;

beforeAll(async () => {
  // the shipped models/mnist-unet.safetensors and models/mnist-classifier.safetensors, on wasm
  const configuration = parseServerConfiguration(['--port', '0', '--backend', 'wasm', '--batch-window-ms', '300'], {}) as ServerConfiguration;
  server = await serve(configuration, pino({ level: 'silent' }));
  tensorsBefore = tf.memory().numTensors;
});

afterAll(async () => {
  await server?.close();
});

describe('serve (the shipped MNIST model)', () => {
  it('draws recognisable digit cells: bright strokes on a dark background', async () => {
    const response = await postSamples(server.url, { classes: [0, 7], steps: 5, seed: 4 });
    expect(response.status, response.bytes.toString()).toBe(200);
    const png = PNG.sync.read(response.bytes);
    expect([png.width, png.height]).toEqual([2 + 1 * (28 + 2), 2 + 2 * (28 + 2)]);
    for (const top of [2, 32]) {
      let bright = 0;
      let dark = 0;
      for (let y = top; y < top + 28; y += 1) {
        for (let x = 2; x < 30; x += 1) {
          const value = png.data[(y * png.width + x) * 4] as number;
          if (value > 160) bright += 1;
          if (value < 60) dark += 1;
        }
      }
      // a digit covers roughly 10-30 % of the cell (seed 4 draws a clean 0 and 7 in 5 steps)
      expect(bright, `row at ${top}`).toBeGreaterThan(40);
      expect(dark, `row at ${top}`).toBeGreaterThan(400);
    }
  });

  it('samples with classifier-free and classifier guidance, batched with each other only when compatible, leaving no tensor behind', async () => {
    const alone = await postSamples(server.url, { classes: [5], guidance: 'cfg', scale: 2, steps: 2, seed: 2, format: 'json' });
    const responses = await Promise.all([
      postSamples(server.url, { classes: [2], guidance: 'cfg', scale: 2, steps: 2, seed: 1, format: 'json' }),
      postSamples(server.url, { classes: [5], guidance: 'cfg', scale: 2, steps: 2, seed: 2, format: 'json' }),
      postSamples(server.url, { classes: [3], guidance: 'classifier', scale: 1, steps: 2, seed: 3, format: 'json' }),
    ]);
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200]);
    const [first, second, third] = responses.map((response) => response.json());
    expect(first?.['batch']).toEqual(second?.['batch']);
    expect(second?.['samples']).toEqual(alone.json()['samples']);
    expect(third?.['batch']).toMatchObject({ requests: 1, samples: 1 });
    expect(third).toMatchObject({ model: 'mnist', guidance: 'classifier', scale: 1, backend: 'wasm', shape: [1, 28, 28, 1] });
    expect(tf.memory().numTensors).toBe(tensorsBefore);
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as Record<string, unknown>;
    expect(health).toMatchObject({
      status: 'ok',
      backend: 'wasm',
      models: [{ name: 'mnist', numClasses: 10, timesteps: 1000, shape: [28, 28, 1], cfg: true, classifier: true }],
      queue: { waiting: 0, active: 0 },
    });
  });
});
