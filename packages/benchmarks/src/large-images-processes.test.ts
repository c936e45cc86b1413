import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADM_PEER_SCRIPT, admPeerDevice, admPeerTimingArguments, type AdmPeerModel } from './large-images-processes.js';
import { largeImagesSettings } from './large-images-settings.js';
import { PEER_PYTHON } from './torch-peer.js';

const folder = mkdtempSync(join(tmpdir(), 'large-images-processes-'));
const checkpoint = join(folder, 'adm.pt');
writeFileSync(checkpoint, 'not read');

/** The PyTorch peer's model as benchLargeImages builds it from the settings. */
function peerModel(backend: 'wasm' | 'webgpu', peerDevice?: 'cpu' | 'cuda'): AdmPeerModel {
  const settings = largeImagesSettings({ checkpoint, backend, ...(peerDevice ? { peerDevice } : {}), log: () => {}, environment: {} });
  return {
    guidedDiffusion: '/g',
    modelFlags: settings.modelFlags,
    checkpoint: settings.checkpoint,
    threads: settings.threads,
    device: settings.peerDevice,
  };
}

const request = { input: '/t/input-4.json', output: '/t/pytorch-4.f32', iterations: 3, warmup: 1, batch: 4 };

describe('the PyTorch peer of the large-images benchmark', () => {
  it('gets --device cuda when ours runs on webgpu, --device cpu on wasm, and whatever peerDevice says', () => {
    const gpu = admPeerTimingArguments(peerModel('webgpu'), request);
    expect(gpu[0]).toBe(ADM_PEER_SCRIPT);
    expect(gpu.slice(gpu.indexOf('--device'), gpu.indexOf('--device') + 2)).toEqual(['--device', 'cuda']);
    expect(gpu.slice(gpu.indexOf('--checkpoint'), gpu.indexOf('--checkpoint') + 2)).toEqual(['--checkpoint', checkpoint]);
    expect(gpu.slice(-10)).toEqual([
      '--batch',
      '4',
      '--iterations',
      '3',
      '--warmup',
      '1',
      '--input',
      '/t/input-4.json',
      '--output',
      '/t/pytorch-4.f32',
    ]);
    const cpu = admPeerTimingArguments(peerModel('wasm'), request);
    expect(cpu.filter((word) => word === '--device' || word === 'cuda' || word === 'cpu')).toEqual(['--device', 'cpu']);
    expect(admPeerTimingArguments(peerModel('webgpu', 'cpu'), request)).toEqual(cpu);
    expect(admPeerTimingArguments(peerModel('wasm', 'cuda'), request)).toEqual(gpu);
  });

  const noTorch = !existsSync(PEER_PYTHON) || spawnSync(PEER_PYTHON, ['-c', 'import torch'], { timeout: 60_000 }).status !== 0;
  it.skipIf(noTorch)(
    `adm_peer.py --check-device names the device, or says in one line that CUDA is unusable${noTorch ? `: skipped, ${PEER_PYTHON} cannot import torch` : ''}`,
    async () => {
      expect(await admPeerDevice('cpu')).toMatchObject({ device: 'cpu', name: 'cpu' });
      const cuda = spawnSync(PEER_PYTHON, ['-c', 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'], { timeout: 60_000 });
      if (cuda.status === 0) {
        expect((await admPeerDevice('cuda')).name).not.toBe('');
      } else {
        // Debian's python3-torch: built without CUDA
        await expect(admPeerDevice('cuda')).rejects.toMatchObject({
          code: 'backend-unavailable',
          message: expect.stringMatching(
            /^adm_peer\.py --check-device failed \(exit 2\): adm_peer\.py: --device cuda, but PyTorch \S+ cannot use CUDA here: /,
          ),
        });
      }
    },
    60_000,
  );
});
