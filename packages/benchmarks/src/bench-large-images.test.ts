import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SWIFTSHADER_ICD_PATH } from '@tfjs-diffusion/backends/node';
import { benchLargeImages } from './bench-large-images.js';
import { LARGE_IMAGE_ARCHITECTURES } from './large-images-settings.js';
import { PEER_PYTHON } from './torch-peer.js';

// End to end through the same code path as the real-size benchmark (child processes, converted
// model file, shared input, output files), on small ADM networks. The runners are the package's
// built entries: build it first (pnpm build), as for @tfjs-diffusion/parallel's workers.
const root = fileURLToPath(new URL('../../..', import.meta.url));

/** Why the PyTorch peer cannot run here, or undefined: it needs Debian's python3-torch and a guided-diffusion checkout. */
function pytorchSkipReason(): string | undefined {
  const folder = process.env['TFJS_DIFFUSION_GUIDED_DIFFUSION'];
  if (folder === undefined || folder === '')
    return 'TFJS_DIFFUSION_GUIDED_DIFFUSION is not set (a checkout of openai/guided-diffusion; the converter fixtures are committed, the code is not)';
  if (!existsSync(join(folder, 'guided_diffusion', 'unet.py'))) return `TFJS_DIFFUSION_GUIDED_DIFFUSION=${folder} holds no guided_diffusion/unet.py`;
  if (!existsSync(PEER_PYTHON) || spawnSync(PEER_PYTHON, ['-c', 'import torch'], { timeout: 60_000 }).status !== 0)
    return `${PEER_PYTHON} cannot import torch (Debian: apt-get install -y python3-torch)`;
  return undefined;
}

/** Why the onnxruntime-node peer cannot run here, or undefined. */
function onnxruntimeSkipReason(): string | undefined {
  const folder = process.env['TFJS_DIFFUSION_ORT_DIR'];
  if (folder === undefined || folder === '') return 'TFJS_DIFFUSION_ORT_DIR is not set (onnxruntime-node installed outside the repository)';
  if (!existsSync(join(folder, 'node_modules', 'onnxruntime-node'))) return `${folder}/node_modules/onnxruntime-node does not exist`;
  return undefined;
}

/** Why ours cannot run on webgpu here, or undefined: Dawn needs a GPU or SwiftShader (as the conformance suite decides). */
function webgpuSkipReason(): string | undefined {
  const userDriver = process.env['VK_ICD_FILENAMES'];
  if (existsSync(SWIFTSHADER_ICD_PATH) || (userDriver !== undefined && userDriver !== '') || process.env['CONFORMANCE_WEBGPU'] === '1')
    return undefined;
  return `${SWIFTSHADER_ICD_PATH} is absent (apt-get install -y chromium provides SwiftShader); set VK_ICD_FILENAMES, or CONFORMANCE_WEBGPU=1 on a machine with a GPU`;
}

/** Whether /usr/bin/python3's torch sees a CUDA device (the PyTorch peer then runs there beside ours on webgpu). */
const torchHasCuda = (): boolean =>
  spawnSync(PEER_PYTHON, ['-c', 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'], { timeout: 60_000 }).status === 0;

const pytorchSkip = pytorchSkipReason();
const webgpuSkip = webgpuSkipReason();
const onnxruntimeSkip = pytorchSkip ?? onnxruntimeSkipReason();

// the guided-64-style fixture's flags (packages/converters/fixtures/fixtures.json), with its GroupNorm group count
const FIXTURE_FLAGS =
  '--attention_resolutions 8,4 --class_cond True --diffusion_steps 1000 --dropout 0.1 --image_size 16 --channel_mult 1,2 --learn_sigma True ' +
  '--noise_schedule cosine --num_channels 4 --num_head_channels 4 --num_res_blocks 1 --resblock_updown True --use_new_attention_order True ' +
  '--use_fp16 True --use_scale_shift_norm True --group_norm_groups 4';

/** A float32 adm-tiny-16 checkpoint written by the original code (random weights, zero parameters filled), in `folder`. */
function makeTinyCheckpoint(folder: string): string {
  const checkpoint = join(folder, 'tiny.pt');
  const made = spawnSync(
    PEER_PYTHON,
    [
      join(root, 'scripts/torch-fixtures/make_random_checkpoint.py'),
      checkpoint,
      '--float32',
      '--random-zero-parameters',
      '0.02',
      '--flags',
      LARGE_IMAGE_ARCHITECTURES['adm-tiny-16']?.modelFlags as string,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(made.status, made.stderr).toBe(0);
  return checkpoint;
}

describe('benchLargeImages', () => {
  it('runs ours alone on the committed guided-64-style fixture (made by the original code): one process per batch size, FLOPs linear in the batch', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'large-images-ours-'));
    const checkpoint = join(folder, 'guided-64-style.pt');
    copyFileSync(join(root, 'packages/converters/fixtures/guided-64-style.pt'), checkpoint);
    const lines: string[] = [];
    const report = await benchLargeImages({
      architecture: 'guided-64-style',
      modelFlags: FIXTURE_FLAGS,
      checkpoint,
      batchSizes: [1, 2],
      iterations: 1,
      warmup: 0,
      skipPeers: true,
      log: (line) => lines.push(line),
    });
    expect(report.modelFile).toBe(join(folder, 'guided-64-style.safetensors'));
    expect(existsSync(report.modelFile)).toBe(true);
    expect(report.absent).toEqual({ pytorch: 'skipped (--skip-peer)', onnxruntime: 'skipped (--skip-peer)' });
    expect(report.batches.map((entry) => entry.batch)).toEqual([1, 2]);
    const [one, two] = report.batches as [(typeof report.batches)[0], (typeof report.batches)[0]];
    expect(one.flops).toBeGreaterThan(0);
    expect(two.flops).toBe(2 * one.flops);
    for (const entry of report.batches) {
      expect(entry.ours.output.shape).toEqual([entry.batch, 6, 16, 16]);
      expect(entry.ours.backend).toBe('wasm');
      expect(entry.ours.wallSecondsEach).toHaveLength(1);
      expect(entry.ours.peakMiB).toBeGreaterThanOrEqual(entry.ours.rssAfterLoadMiB);
      expect(entry.ours.gflops).toBeCloseTo(entry.flops / entry.ours.wallSeconds / 1e9, 1);
      expect(Number.isFinite(entry.ours.output.sum) && entry.ours.output.maxAbs > 0).toBe(true);
      expect(entry.ours.kernels.length).toBeGreaterThan(3);
      expect(entry.ours.kernels.map((row) => row.kernel)).toContain('FusedConv2D');
      expect(entry.ours.kernels.some((row) => row.kernel.endsWith('__op'))).toBe(false);
      expect(entry.pytorch).toBeUndefined();
      expect(entry.ratio).toEqual({});
    }
    expect(report.parameters.ours).toBeGreaterThan(0);
    expect(lines[0]).toMatch(/^large-images: converted .*guided-64-style\.pt to .*guided-64-style\.safetensors/);
  }, 60_000);

  it.skipIf(pytorchSkip !== undefined)(
    `matches PyTorch (and onnxruntime-node) on adm-tiny-16 within 1e-4 of the outputs' scale${pytorchSkip ? `: skipped, ${pytorchSkip}` : ''}${onnxruntimeSkip && !pytorchSkip ? ` (onnxruntime-node left out: ${onnxruntimeSkip})` : ''}`,
    async () => {
      const folder = mkdtempSync(join(tmpdir(), 'large-images-peers-'));
      const checkpoint = makeTinyCheckpoint(folder);
      const lines: string[] = [];
      const report = await benchLargeImages({
        architecture: 'adm-tiny-16',
        checkpoint,
        ...(onnxruntimeSkip ? {} : { onnxModel: join(folder, 'tiny.onnx') }),
        batchSizes: [2],
        iterations: 1,
        warmup: 0,
        threads: 1,
        log: (line) => lines.push(line),
      });
      expect(report.parameters.pytorch).toBe(956_358);
      // the converter's all-zero null-label row: 128 embedding values
      expect(report.parameters.ours).toBe(956_358 + 128);
      const [entry] = report.batches;
      expect(entry?.pytorch?.output.shape).toEqual([2, 6, 16, 16]);
      expect(entry?.pytorch?.difference.relative).toBeLessThan(1e-4);
      expect(entry?.pytorch?.output.maxAbs).toBeGreaterThan(0.1);
      expect(entry?.ratio.pytorch?.speed).toBeCloseTo((entry?.pytorch?.wallSeconds as number) / (entry?.ours.wallSeconds as number), 2);
      if (onnxruntimeSkip === undefined) {
        expect(lines.some((line) => /exported .*tiny\.onnx/.test(line))).toBe(true);
        expect(entry?.onnxruntime?.difference.relative).toBeLessThan(1e-4);
        expect(entry?.onnxruntime?.threads).toBe(1);
      } else {
        expect(report.absent['onnxruntime']).toBeDefined();
      }
    },
    90_000,
  );

  it.skipIf(webgpuSkip !== undefined)(
    `runs ours on webgpu (Dawn; SwiftShader here) on the same fixture: the adapter named, no native threads, the output of wasm within 1e-5${webgpuSkip ? `: skipped, ${webgpuSkip}` : ''}`,
    async () => {
      const folder = mkdtempSync(join(tmpdir(), 'large-images-webgpu-'));
      const checkpoint = join(folder, 'guided-64-style.pt');
      copyFileSync(join(root, 'packages/converters/fixtures/guided-64-style.pt'), checkpoint);
      const common = {
        architecture: 'guided-64-style',
        modelFlags: FIXTURE_FLAGS,
        checkpoint,
        batchSizes: [2],
        iterations: 1,
        warmup: 0,
        skipPeers: true,
      };
      const wasm = await benchLargeImages({ ...common, log: () => {} });
      const report = await benchLargeImages({ ...common, backend: 'webgpu', log: () => {} });
      expect(report).toMatchObject({ backend: 'webgpu', peerDevice: 'cuda' });
      const [entry] = report.batches;
      const [reference] = wasm.batches;
      expect(entry?.ours.backend).toBe('webgpu');
      expect(entry?.ours.backendReason).toMatch(/^requested 'webgpu': tfjs-backend-webgpu .*adapter \S/);
      expect(entry?.ours.nativeThreads).toBe(0);
      expect(entry?.ours.threadCpuSeconds).toBeUndefined();
      // no share of the CPU's peak for a GPU runner
      expect(entry?.ours.shareOfPeak).toBeUndefined();
      // tfjs-backend-webgpu's buffers: at least the weights in use, more held with its pool
      expect(entry?.ours.tfjsGpuInUseMiB).toBeGreaterThanOrEqual(entry?.ours.weightsMiB as number);
      expect(entry?.ours.tfjsGpuAllocatedMiB).toBeGreaterThanOrEqual(entry?.ours.tfjsGpuInUseMiB as number);
      expect(reference?.ours.tfjsGpuInUseMiB).toBeUndefined();
      expect(entry?.flops).toBe(reference?.flops);
      expect(entry?.ours.output.shape).toEqual([2, 6, 16, 16]);
      const scale = reference?.ours.output.maxAbs as number;
      expect(scale).toBeGreaterThan(0);
      expect(Math.abs((entry?.ours.output.maxAbs as number) - scale)).toBeLessThan(1e-5 * Math.max(1, scale));
      entry?.ours.output.first.forEach((value, index) =>
        expect(Math.abs(value - (reference?.ours.output.first[index] as number))).toBeLessThan(1e-5),
      );
      expect(Math.abs((entry?.ours.output.sum as number) - (reference?.ours.output.sum as number))).toBeLessThan(1e-3);
    },
    90_000,
  );

  it.skipIf(pytorchSkip !== undefined || webgpuSkip !== undefined)(
    `runs ours on webgpu against PyTorch (on CUDA when it has it) on adm-tiny-16 within 1e-4 of the outputs' scale${pytorchSkip || webgpuSkip ? `: skipped, ${pytorchSkip ?? webgpuSkip}` : ''}`,
    async () => {
      const folder = mkdtempSync(join(tmpdir(), 'large-images-webgpu-peers-'));
      const checkpoint = makeTinyCheckpoint(folder);
      const cuda = torchHasCuda();
      const report = await benchLargeImages({
        architecture: 'adm-tiny-16',
        checkpoint,
        backend: 'webgpu',
        peerDevice: cuda ? 'cuda' : 'cpu',
        batchSizes: [1],
        iterations: 1,
        warmup: 0,
        threads: 1,
        // the guided-diffusion checkout only: no onnxruntime-node (the test above covers it), nothing exported into $TFJS_DIFFUSION_ORT_DIR
        environment: { TFJS_DIFFUSION_GUIDED_DIFFUSION: process.env['TFJS_DIFFUSION_GUIDED_DIFFUSION'] },
        log: () => {},
      });
      expect(report.absent['onnxruntime']).toMatch(/^not asked for/);
      const [entry] = report.batches;
      expect(entry?.ours.backend).toBe('webgpu');
      expect(entry?.pytorch?.output.shape).toEqual([1, 6, 16, 16]);
      expect(entry?.pytorch?.difference.relative).toBeLessThan(1e-4);
      expect(entry?.pytorch?.device).toBe(cuda ? 'cuda' : 'cpu');
      if (cuda) {
        expect(entry?.pytorch?.gpuPeakMiB).toBeGreaterThan(0);
        expect(entry?.pytorch?.shareOfPeak).toBeUndefined();
      } else {
        expect(entry?.pytorch?.gpuPeakMiB).toBeUndefined();
      }
    },
    120_000,
  );
});
