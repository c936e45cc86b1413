import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe } from 'vitest';
import { sampleEuler } from './euler.js';
import { sigmaSamplerSuite } from './test-utils/sigma-sampler-suite.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sampleEuler', () => {
  // first order: the std bias falls like 1/N (13% at 25 steps, 3.4% at 100)
  sigmaSamplerSuite(
    sampleEuler,
    'euler',
    [
      { sigmas: 'schedule', steps: 25, exactStd: 0.3471, bias: 0.14 },
      { sigmas: 'karras', steps: 10, exactStd: 0.2844, bias: 0.3 },
      { sigmas: 'karras', steps: 25, exactStd: 0.3515, bias: 0.13 },
    ],
    { sigmas: 'schedule', steps: 25 },
  );
});
