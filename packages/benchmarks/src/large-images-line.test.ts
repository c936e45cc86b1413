import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { largeImagesInput } from './bench-large-images.js';
import {
  maxAbsDifference,
  nchwToNhwc,
  nhwcToNchw,
  readFloat32File,
  readLargeImagesInput,
  summariseOutput,
  writeFloat32File,
  writeLargeImagesInput,
} from './large-images-files.js';
import { parseForwardLine } from './large-images-line.js';
import { outputDifference, peerRatio, runnerFigures } from './large-images-summary.js';

// A line as adm_peer.py prints it (the onnxruntime-node and our runners print the same keys).
const PYTORCH_LINE = JSON.stringify({
  peer: 'pytorch',
  version: '1.13.0a0',
  threads: 2,
  batch: 4,
  iterations: 3,
  warmup: 1,
  parameters: 295904454,
  load_s: 27.5,
  wall_s: [20.5, 19.5, 21],
  wall_s_per_forward: 20.5,
  cpu_s_per_forward: 40.2,
  max_rss_before_load_mib: 230.1,
  max_rss_after_load_mib: 2500.5,
  max_rss_mib: 3100.25,
  output: { shape: [4, 6, 64, 64], sum: 12.5, max_abs: 3.25, first: [0.5, -0.25, 0, 1] },
});

describe('large-images runner lines', () => {
  it("parse a runner's JSON line after other output, keeping the keys a runner adds", () => {
    const figures = parseForwardLine(`warning: something\n${PYTORCH_LINE.replace('"peer"', '"flops": 5e9, "peer"')}\n`, 'adm_peer.py');
    expect(figures).toEqual({
      peer: 'pytorch',
      version: '1.13.0a0',
      threads: 2,
      batch: 4,
      iterations: 3,
      warmup: 1,
      parameters: 295904454,
      loadSeconds: 27.5,
      wallSeconds: [20.5, 19.5, 21],
      wallSecondsPerForward: 20.5,
      cpuSecondsPerForward: 40.2,
      maxRssBeforeLoadMiB: 230.1,
      maxRssAfterLoadMiB: 2500.5,
      maxRssMiB: 3100.25,
      output: { shape: [4, 6, 64, 64], sum: 12.5, maxAbs: 3.25, first: [0.5, -0.25, 0, 1] },
      extra: { flops: 5e9 },
    });
  });

  it('name the runner and the missing key', () => {
    expect(() => parseForwardLine('Traceback ...', 'adm_peer.py')).toThrow('adm_peer.py printed no JSON line: "Traceback ..."');
    expect(() => parseForwardLine('{"peer": ', 'ours')).toThrow(/^ours printed a line that is not JSON/);
    expect(() => parseForwardLine(PYTORCH_LINE.replace('"cpu_s_per_forward":40.2', '"cpu_s_per_forward":null'), 'x')).toThrow(
      "x's line lacks a number 'cpu_s_per_forward'",
    );
    expect(() => parseForwardLine(PYTORCH_LINE.replace('"wall_s":[20.5,19.5,21]', '"wall_s":[]'), 'x')).toThrow(/lacks 'wall_s'/);
    expect(() => parseForwardLine(PYTORCH_LINE.replace('"max_abs":3.25', '"max":3.25'), 'x')).toThrow(/lacks 'output'/);
  });

  it('summarise figures: GFLOP/s from the median wall time, ratios ours/peer, relative differences', () => {
    const peer = runnerFigures(parseForwardLine(PYTORCH_LINE, 'adm_peer.py'), 1.234, 8.2e11, 400);
    expect(peer).toMatchObject({ loadAverage: 1.23, wallSeconds: 20.5, cpuSeconds: 40.2, peakMiB: 3100.3, gflops: 40, shareOfPeak: 0.1 });
    expect(runnerFigures(parseForwardLine(PYTORCH_LINE, 'adm_peer.py'), 1, 8.2e11).shareOfPeak).toBeUndefined();
    const ours = { ...peer, wallSeconds: 10.25, cpuSeconds: 20.1, peakMiB: 1550.15 };
    expect(peerRatio(ours, peer)).toEqual({ speed: 2, cpu: 2, memory: 0.5 });
    expect(outputDifference(3.25e-4, 3.25)).toEqual({ maxAbs: 0.000325, relative: 0.0001 });
    expect(outputDifference(0, 0)).toEqual({ maxAbs: 0, relative: 0 });
  });
});

describe('large-images runner lines from a GPU', () => {
  it("keep PyTorch's CUDA device and GPU peak beside the host figures; the memory ratio stays host RSS", () => {
    const cudaLine = PYTORCH_LINE.replace(
      '"output"',
      '"device": "cuda", "device_name": "NVIDIA H200", "gpu_allocated_after_load_mib": 1128.75, "gpu_peak_mib": 2475.25, "output"',
    );
    const line = parseForwardLine(cudaLine, 'adm_peer.py');
    expect(line.extra).toEqual({ device: 'cuda', device_name: 'NVIDIA H200', gpu_allocated_after_load_mib: 1128.75, gpu_peak_mib: 2475.25 });
    const peer = runnerFigures(line, 0.5, 8.2e11);
    expect(peer).toMatchObject({
      device: 'cuda',
      deviceName: 'NVIDIA H200',
      gpuPeakMiB: 2475.3,
      gpuAfterLoadMiB: 1128.8,
      peakMiB: 3100.3,
      gflops: 40,
    });
    expect(peer.shareOfPeak).toBeUndefined();
    const ours = { ...runnerFigures(parseForwardLine(PYTORCH_LINE, 'ours'), 0.5, 8.2e11), wallSeconds: 5.125, cpuSeconds: 4.02, peakMiB: 1550.15 };
    expect(ours.gpuPeakMiB).toBeUndefined();
    expect(ours.device).toBeUndefined();
    expect(peerRatio(ours, peer)).toEqual({ speed: 4, cpu: 10, memory: 0.5 });
    // a GPU figure that is not a finite number is left out, not reported as NaN
    const broken = runnerFigures(parseForwardLine(cudaLine.replace('"gpu_peak_mib": 2475.25', '"gpu_peak_mib": "n/a"'), 'x'), 0.5, 8.2e11);
    expect(broken.gpuPeakMiB).toBeUndefined();
    expect(broken.gpuAfterLoadMiB).toBe(1128.8);
  });
});

describe('large-images files', () => {
  it('an input round-trips through its JSON file, seeded: the same seed and batch give the same numbers', () => {
    const input = largeImagesInput(3, 4, 3, 1000, 7);
    expect(input.x).toHaveLength(3 * 3 * 4 * 4);
    expect(input.timesteps.every((t) => Number.isInteger(t) && t >= 0 && t < 1000)).toBe(true);
    expect(input.labels?.every((label) => Number.isInteger(label) && label >= 0 && label < 1000)).toBe(true);
    expect(largeImagesInput(3, 4, 3, 1000, 7).x).toEqual(input.x);
    expect(largeImagesInput(3, 4, 3, 1000, 8).x).not.toEqual(input.x);
    expect(largeImagesInput(2, 4, 3, null, 7).labels).toBeNull();
    const path = join(mkdtempSync(join(tmpdir(), 'large-images-files-')), 'input.json');
    writeLargeImagesInput(path, input);
    expect(readLargeImagesInput(path)).toEqual({ ...input, timesteps: [...input.timesteps], labels: [...(input.labels ?? [])] });
  });

  it('float32 files, layouts, differences and summaries', () => {
    const values = Float32Array.from({ length: 2 * 3 * 2 * 2 }, (_, index) => index - 5.5);
    const path = join(mkdtempSync(join(tmpdir(), 'large-images-files-')), 'out.f32');
    writeFloat32File(path, values);
    expect(readFloat32File(path)).toEqual(values);
    const nhwc = nchwToNhwc(values, 2, 2, 3);
    // NCHW [0, c=1, h=0, w=1] is index 5, NHWC [0, 0, 1, 1] is index 4
    expect(nhwc[4]).toBe(values[5]);
    expect(nhwcToNchw(nhwc, 2, 2, 3)).toEqual(values);
    const shifted = values.map((value, index) => (index === 7 ? value + 0.25 : value));
    expect(maxAbsDifference(values, shifted)).toBe(0.25);
    expect(maxAbsDifference([1, Number.NaN], [1, 2])).toBeNaN();
    expect(() => maxAbsDifference([1], [1, 2])).toThrow('outputs of 1 and 2 values cannot be compared');
    expect(summariseOutput([1, -3, 0.5, 2, 4], [5])).toEqual({ shape: [5], sum: 4.5, maxAbs: 4, first: [1, -3, 0.5, 2] });
  });
});
