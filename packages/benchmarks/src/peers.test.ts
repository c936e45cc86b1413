import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPeers } from './find-peers.js';
import { kernelFlops } from './flop-count.js';
import { ortPeerMissing, parseOrtPeerOutput } from './ort-peer.js';
import { ortFolder, peerFolder, repositoryRoot, torchPeerScript } from './peer-folder.js';
import { median, summariseRounds } from './round-summary.js';

describe('peer folders', () => {
  it('default to ../shared/peers beside the repository root, whatever the current directory', () => {
    const root = repositoryRoot();
    expect(root).toBe(resolve(import.meta.dirname, '..', '..', '..'));
    expect(peerFolder(undefined, {}).folder).toBe(resolve(root, '..', 'shared', 'peers'));
    expect(torchPeerScript(undefined, '/p', {}).script).toBe('/p/torch_unet.py');
  });

  it('take the option first, then the environment', () => {
    expect(peerFolder('/a', { TFJS_DIFFUSION_PEERS: '/b' })).toEqual({ folder: '/a', from: '--peers' });
    expect(peerFolder(undefined, { TFJS_DIFFUSION_PEERS: '/b' }).folder).toBe('/b');
    expect(torchPeerScript(undefined, '/p', { TFJS_DIFFUSION_TORCH_PEER: '/t.py' }).script).toBe('/t.py');
    expect(ortFolder(undefined, {})).toBeUndefined();
    expect(ortFolder(undefined, { TFJS_DIFFUSION_ORT_DIR: '/o' })?.folder).toBe('/o');
  });

  it('say what is missing for onnxruntime-node', () => {
    const folder = mkdtempSync(join(tmpdir(), 'ort-peer-'));
    const peers = mkdtempSync(join(tmpdir(), 'peers-'));
    expect(ortPeerMissing(peers, folder)).toMatch(/ort_peer\.mjs does not exist/);
    writeFileSync(join(peers, 'ort_peer.mjs'), '');
    expect(ortPeerMissing(peers, folder)).toMatch(/node_modules\/onnxruntime-node does not exist .*ONNXRUNTIME_NODE_INSTALL=skip/);
    mkdirSync(join(folder, 'node_modules', 'onnxruntime-node'), { recursive: true });
    expect(ortPeerMissing(peers, folder)).toMatch(/model\/unet\.onnx does not exist .*export_onnx\.py/);
    mkdirSync(join(folder, 'model'));
    writeFileSync(join(folder, 'model', 'unet.onnx'), '');
    expect(ortPeerMissing(peers, folder)).toBeUndefined();
  });

  it('are found with a line per peer saying why one is absent, and an explicit folder that cannot run is an error', async () => {
    const peers = mkdtempSync(join(tmpdir(), 'peers-'));
    const lines: string[] = [];
    const found = await findPeers({ peers, threads: 2, batch: 8, environment: {}, log: (line) => lines.push(line) });
    expect(found).toEqual({});
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      `peer: PyTorch peer absent: ${join(peers, 'torch_unet.py')} (from --peers) does not exist; ` +
        'give the folder with --peers DIR or $TFJS_DIFFUSION_PEERS, or the script with --peer-script FILE',
    );
    expect(lines[1]).toMatch(/^peer: onnxruntime-node peer not asked for \(--ort-dir DIR or \$TFJS_DIFFUSION_ORT_DIR/);
    await expect(findPeers({ peers, peerScript: join(peers, 'none.py'), threads: 1, batch: 1, log: () => {} })).rejects.toMatchObject({
      code: 'invalid-argument',
      message: `--peer-script ${join(peers, 'none.py')} does not exist`,
    });
    const ortDir = mkdtempSync(join(tmpdir(), 'ort-'));
    await expect(findPeers({ peers, ortDir, threads: 1, batch: 1, environment: {}, log: () => {} })).rejects.toThrow(
      /^--ort-dir: .*ort_peer\.mjs does not exist/,
    );
    // The same folder from the environment is only logged as absent.
    const fromEnvironment: string[] = [];
    await findPeers({ peers, threads: 1, batch: 1, environment: { TFJS_DIFFUSION_ORT_DIR: ortDir }, log: (line) => fromEnvironment.push(line) });
    expect(fromEnvironment[1]).toMatch(/^peer: onnxruntime-node peer absent: .*ort_peer\.mjs does not exist/);
  });

  it("parse ort_peer.mjs's JSON line", () => {
    const line =
      '{"peer":"onnxruntime-node","version":"1.30.0","threads":2,"batch":32,"sample_image_evals_per_s":144.13,"check":{"max_abs_diff":1.5e-6}}';
    expect(parseOrtPeerOutput(`noise\n${line}\n`)).toEqual({
      evalImagesPerSec: 144.13,
      threads: 2,
      batch: 32,
      version: '1.30.0',
      maxAbsDifferenceFromTorch: 1.5e-6,
    });
    expect(() => parseOrtPeerOutput('no json')).toThrow(/no JSON line/);
  });
});

describe('figures', () => {
  it('count convolution and matrix-product FLOPs from kernel shapes', () => {
    // 3x3 conv, 16 -> 32 channels on 8x8: 2 * (8*8*32) * (3*3*16)
    expect(
      kernelFlops({
        name: 'FusedConv2D',
        inputShapes: [
          [1, 8, 8, 16],
          [3, 3, 16, 32],
        ],
        outputShapes: [[1, 8, 8, 32]],
      }),
    ).toBe(2 * 8 * 8 * 32 * 144);
    // [2, 5, 7] x [2, 7, 3] and the transposed [2, 7, 5]^T: K = 7 either way
    expect(
      kernelFlops({
        name: 'BatchMatMul',
        inputShapes: [
          [2, 5, 7],
          [2, 7, 3],
        ],
        outputShapes: [[2, 5, 3]],
      }),
    ).toBe(2 * 30 * 7);
    expect(
      kernelFlops({
        name: 'BatchMatMul',
        inputShapes: [
          [2, 7, 5],
          [2, 7, 3],
        ],
        outputShapes: [[2, 5, 3]],
      }),
    ).toBe(2 * 30 * 7);
    expect(kernelFlops({ name: 'Add', inputShapes: [[4], [4]], outputShapes: [[4]] })).toBe(0);
  });

  it('take medians of rounds and ratios within each round', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    const summary = summariseRounds(
      [
        { load1: 3, ours: { train: 60, eval: 200 }, pytorch: { train: 50, eval: 180, version: 't' }, onnxruntime: { eval: 250, version: 'o' } },
        { load1: 5, ours: { train: 30, eval: 100 }, pytorch: { train: 20, eval: 90, version: 't' }, onnxruntime: { eval: 80, version: 'o' } },
        { load1: 4, ours: { train: 45, eval: 150 }, pytorch: { train: 45, eval: 150, version: 't' } },
      ],
      5e8,
      400,
    );
    expect(summary.trainImagesPerSec).toBe(45);
    expect(summary.ratio.trainVsPytorch).toBe(1.2); // median of 1.2, 1.5, 1
    expect(summary.ratio.evalVsOnnxruntime).toBe(1.025); // median of 0.8 and 1.25
    expect(summary.ratio.evalVsBestPeer).toBe(1); // 200/250, 100/90, 150/150
    expect(summary.gflops.eval).toBe(75); // 150 img/s * 0.5 GFLOP
    expect(summary.gflops.train).toBe(67.5); // 45 * 1.5 GFLOP
    expect(summary.shareOfPeak?.eval).toBe(0.188);
    expect(summary.load1).toEqual([3, 5]);
    expect(summary.peers.onnxruntime).toEqual({ evalImagesPerSec: 165, version: 'o' });
  });
});
