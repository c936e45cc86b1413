import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiffusionError } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { LARGE_IMAGE_ARCHITECTURES, isUpToDate, largeImagesSettings, parseBatchSizes } from './large-images-settings.js';

const folder = mkdtempSync(join(tmpdir(), 'large-images-settings-'));
const checkpoint = join(folder, 'adm64.pt');
writeFileSync(checkpoint, 'not read by the settings');
const log = (): void => {};

describe('large-images settings', () => {
  it('parse batch sizes: positive integers up to 256, each once, naming the option', () => {
    expect(parseBatchSizes('1,4')).toEqual([1, 4]);
    expect(parseBatchSizes(' 8 , 2 ')).toEqual([8, 2]);
    expect(() => parseBatchSizes('1,0')).toThrow("--batch-sizes must list batch sizes from 1 to 256 separated by commas, got '1,0'");
    expect(() => parseBatchSizes('1,,4')).toThrow(/got '1,,4'/);
    expect(() => parseBatchSizes('2.5')).toThrow(/got '2.5'/);
    expect(() => parseBatchSizes('257')).toThrow(/from 1 to 256/);
    expect(() => parseBatchSizes('4,4', 'sizes')).toThrow("sizes lists a batch size twice: '4,4'");
  });

  it('default to ImageNet-64, batch 1 and 4, 2 peer threads, the model file beside the checkpoint and the ONNX model in the ORT folder', () => {
    const ortDir = join(folder, 'ort');
    mkdirSync(ortDir, { recursive: true });
    const settings = largeImagesSettings({ checkpoint, log, environment: { TFJS_DIFFUSION_ORT_DIR: ortDir, TFJS_DIFFUSION_GUIDED_DIFFUSION: '/g' } });
    expect(settings).toMatchObject({
      architecture: 'adm-imagenet-64',
      modelFile: join(folder, 'adm64.safetensors'),
      onnxModel: join(ortDir, 'model', 'adm-imagenet-64.onnx'),
      guidedDiffusion: { folder: '/g', from: '$TFJS_DIFFUSION_GUIDED_DIFFUSION' },
      ortDir: { folder: ortDir, from: '$TFJS_DIFFUSION_ORT_DIR' },
      batchSizes: [1, 4],
      threads: 2,
      iterations: 3,
      warmup: 1,
      seed: 0,
      backend: 'wasm',
      peerDevice: 'cpu',
      skipPeers: false,
    });
    expect(settings.modelFlags).toBe(LARGE_IMAGE_ARCHITECTURES['adm-imagenet-64']?.modelFlags);
    expect(settings.modelFlags).toMatch(/--num_channels 192 .*--num_head_channels 64 --num_res_blocks 3 /);
    // no ORT folder: no ONNX model; explicit flags take any label
    const custom = largeImagesSettings({ checkpoint, architecture: 'fixture', modelFlags: '--image_size 16', log, environment: {} });
    expect(custom.onnxModel).toBeUndefined();
    expect(custom.guidedDiffusion).toBeUndefined();
    expect(custom.modelFlags).toBe('--image_size 16');
  });

  it('name what is wrong', () => {
    const environment = {};
    expect(() => largeImagesSettings({ checkpoint, architecture: 'adm-huge', log, environment })).toThrow(
      "unknown architecture 'adm-huge'; known: adm-imagenet-64, adm-tiny-16 (or give the model flags)",
    );
    expect(() => largeImagesSettings({ checkpoint: join(folder, 'none.pt'), log, environment })).toThrow(/checkpoint .*none\.pt does not exist/);
    expect(() => largeImagesSettings({ checkpoint, guidedDiffusion: folder, log, environment })).toThrow(
      `--guided-diffusion ${folder} is not a checkout of openai/guided-diffusion (no guided_diffusion/unet.py)`,
    );
    expect(() => largeImagesSettings({ checkpoint, ortDir: join(folder, 'no-ort'), log, environment })).toThrow(/--ort-dir .*no-ort does not exist/);
    expect(() => largeImagesSettings({ checkpoint, threads: 0, log, environment })).toThrow('threads must be an integer from 1 to 256, got 0');
    expect(() => largeImagesSettings({ checkpoint, iterations: 1.5, log, environment })).toThrow(/iterations must be an integer/);
    expect(() => largeImagesSettings({ checkpoint, batchSizes: [], log, environment })).toThrow('batch sizes: give at least one');
    expect(() => largeImagesSettings({ checkpoint, backend: 'webgl' as 'wasm', log, environment })).toThrow(
      "the large-images benchmark runs ours on wasm, cpu, webgpu, got 'webgl'",
    );
    expect(() => largeImagesSettings({ checkpoint, peerDevice: 'gpu' as 'cuda', log, environment })).toThrow(
      "the PyTorch peer runs on cpu or cuda, got 'gpu'",
    );
    expect(() => largeImagesSettings({ checkpoint, modelFile: checkpoint, log, environment })).toThrow(/would overwrite the checkpoint/);
    expect(() => largeImagesSettings({ checkpoint, architecture: 'Bad Name', modelFlags: '--image_size 16', log, environment })).toThrow(
      /architecture must be lower-case/,
    );
    try {
      largeImagesSettings({ checkpoint, threads: -1, log, environment });
    } catch (error) {
      expect(error).toMatchObject({ code: 'invalid-argument' });
    }
  });

  it('take webgpu for ours, with PyTorch on CUDA unless told otherwise; reject other backends with a DiffusionError naming the value', () => {
    const environment = {};
    expect(largeImagesSettings({ checkpoint, backend: 'webgpu', log, environment })).toMatchObject({ backend: 'webgpu', peerDevice: 'cuda' });
    expect(largeImagesSettings({ checkpoint, backend: 'webgpu', peerDevice: 'cpu', log, environment }).peerDevice).toBe('cpu');
    expect(largeImagesSettings({ checkpoint, backend: 'cpu', log, environment }).peerDevice).toBe('cpu');
    expect(largeImagesSettings({ checkpoint, backend: 'wasm', peerDevice: 'cuda', log, environment }).peerDevice).toBe('cuda');
    for (const backend of ['tensorflow', 'auto', 'WEBGPU', '']) {
      let thrown: unknown;
      try {
        largeImagesSettings({ checkpoint, backend: backend as 'webgpu', log, environment });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(DiffusionError);
      expect(thrown).toMatchObject({
        code: 'invalid-argument',
        message: `the large-images benchmark runs ours on wasm, cpu, webgpu, got '${backend}'`,
      });
    }
  });

  it('reuse a converted file or export only when it is at least as new as the checkpoint', () => {
    const target = join(folder, 'derived.bin');
    expect(isUpToDate(target, checkpoint)).toBe(false);
    writeFileSync(target, '');
    utimesSync(target, new Date(1_000_000), new Date(1_000_000));
    expect(isUpToDate(target, checkpoint)).toBe(false);
    utimesSync(target, new Date(), new Date(Date.now() + 1000));
    expect(isUpToDate(target, checkpoint)).toBe(true);
  });
});
