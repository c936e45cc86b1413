import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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

const pytorchSkip = pytorchSkipReason();
const onnxruntimeSkip = pytorchSkip ?? onnxruntimeSkipReason();

describe('benchLargeImages', () => {
  it('runs ours alone on the committed guided-64-style fixture (made by the original code): one process per batch size, FLOPs linear in the batch', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'large-images-ours-'));
    const checkpoint = join(folder, 'guided-64-style.pt');
    copyFileSync(join(root, 'packages/converters/fixtures/guided-64-style.pt'), checkpoint);
    const lines: string[] = [];
    const report = await benchLargeImages({
      architecture: 'guided-64-style',
      // the fixture's flags (packages/converters/fixtures/fixtures.json), with its GroupNorm group count
      modelFlags:
        '--attention_resolutions 8,4 --class_cond True --diffusion_steps 1000 --dropout 0.1 --image_size 16 --channel_mult 1,2 --learn_sigma True ' +
        '--noise_schedule cosine --num_channels 4 --num_head_channels 4 --num_res_blocks 1 --resblock_updown True --use_new_attention_order True ' +
        '--use_fp16 True --use_scale_shift_norm True --group_norm_groups 4',
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
});
