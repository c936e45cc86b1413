import { selectBackend } from '@tfjs-diffusion/backends/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchRounds } from './bench-rounds.js';
import type { OrtPeerFigures } from './ort-peer.js';

describe('benchRounds', () => {
  beforeAll(async () => {
    // The cpu backend with the project's training kernels, as `tfjs-diffusion bench --backend cpu` runs it.
    await selectBackend('cpu');
  });

  it("gives `bench --json`'s object: settings, medians, ratios to the peers round by round, FLOPs, peak and every round", async () => {
    const lines: string[] = [];
    let ortCalls = 0;
    const ort = async (): Promise<OrtPeerFigures> => {
      ortCalls += 1;
      if (ortCalls === 2) throw new Error('peer crashed');
      return { evalImagesPerSec: 10, threads: 1, batch: 1, version: '1.30.0' };
    };
    const peak = { gflopsPerCore: 100, threads: 1, gflops: 100, method: 'given' };
    const report = await benchRounds({
      backend: 'cpu',
      workers: 0,
      batch: 1,
      iterations: 1,
      warmup: 0,
      rounds: 2,
      profile: false,
      seed: 0,
      peers: { ort },
      peak,
      log: (line) => lines.push(line),
    });
    expect(Object.keys(report)).toEqual([
      'backend',
      'config',
      'batch',
      'iterations',
      'parameters',
      'workers',
      'threads',
      'trainImagesPerSec',
      'evalImagesPerSec',
      'peers',
      'ratio',
      'flops',
      'gflops',
      'shareOfPeak',
      'load1',
      'peak',
      'rounds',
    ]);
    expect(report).toMatchObject({ backend: 'cpu', config: 'torch-peer', batch: 1, parameters: 1_142_337, workers: 0, threads: 1, peak });
    expect(report.flops).toEqual({ forwardPerImage: 490_053_632, trainPerImage: 3 * 490_053_632 });
    expect(report.rounds).toHaveLength(2);
    // The peer failed in round 2: its figure and ratio come from round 1 alone.
    expect(report.rounds[1]?.onnxruntime).toBeUndefined();
    expect(report.peers).toEqual({ onnxruntime: { evalImagesPerSec: 10, version: '1.30.0' } });
    const firstEval = report.rounds[0]?.ours.eval as number;
    expect(report.ratio).toEqual({
      evalVsOnnxruntime: Math.round((1000 * firstEval) / 10) / 1000,
      evalVsBestPeer: Math.round((1000 * firstEval) / 10) / 1000,
    });
    expect(report.shareOfPeak?.onnxruntimeEval).toBe(Math.round((1000 * ((10 * 490_053_632) / 1e9)) / 100) / 1000);
    expect(lines).toContain('peer: onnxruntime-node: peer crashed; no figure this round');
    expect(lines.filter((line) => line.startsWith('bench: round 2/2: cpu, main thread, batch 1'))).toHaveLength(1);
  });

  it('rejects a round count below 1 before running anything', async () => {
    await expect(
      benchRounds({ backend: 'cpu', workers: 0, batch: 1, iterations: 1, warmup: 0, rounds: 0, profile: false, seed: 0, peers: {}, log: () => {} }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
