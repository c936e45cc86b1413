import { describe, expect, it } from 'vitest';
import { DiffusionError, createNoiseSource } from '@tfjs-diffusion/core';
import { EIGHT_GAUSSIANS_RADIUS, toyDataset, type ToyDatasetName } from './toy-datasets.js';

const names: ToyDatasetName[] = ['eight-gaussians', 'two-moons', 'swiss-roll', 'checkerboard'];
const count = 4000;

function classCounts(labels: Int32Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  labels.forEach((label) => (counts[label] = (counts[label] as number) + 1));
  return counts;
}

describe('toyDataset', () => {
  it.each(names)('%s: shapes, label range, bounds, seeded', (name) => {
    const dataset = toyDataset(name, count, createNoiseSource(1));
    expect(dataset.name).toBe(name);
    expect(dataset.count).toBe(count);
    expect(dataset.points.length).toBe(2 * count);
    expect(dataset.labels.length).toBe(count);
    expect(dataset.points.every((value) => Number.isFinite(value) && Math.abs(value) < 3)).toBe(true);
    expect(dataset.labels.every((label) => label >= 0 && label < dataset.numClasses)).toBe(true);
    for (const classCount of classCounts(dataset.labels, dataset.numClasses)) {
      expect(classCount).toBeGreaterThan((0.7 * count) / dataset.numClasses);
    }
    expect(toyDataset(name, count, createNoiseSource(1)).points).toEqual(dataset.points);
    expect(toyDataset(name, count, createNoiseSource(2)).points).not.toEqual(dataset.points);
    // Roughly centred with unit-ish spread.
    let sumX = 0;
    let sumY = 0;
    let sumSquares = 0;
    for (let index = 0; index < count; index += 1) {
      const x = dataset.points[2 * index] as number;
      const y = dataset.points[2 * index + 1] as number;
      sumX += x;
      sumY += y;
      sumSquares += x * x + y * y;
    }
    expect(Math.abs(sumX / count)).toBeLessThan(0.5);
    expect(Math.abs(sumY / count)).toBeLessThan(0.5);
    const rms = Math.sqrt(sumSquares / (2 * count));
    expect(rms).toBeGreaterThan(0.5);
    expect(rms).toBeLessThan(2);
  });

  it('eight-gaussians: points lie within 3 std of their labelled mode, with the stated std', () => {
    const dataset = toyDataset('eight-gaussians', count, createNoiseSource('ring'));
    const modes = dataset.modes!;
    const std = dataset.modeStd!;
    expect(modes).toHaveLength(8);
    expect(std).toBe(0.15);
    modes.forEach(([x, y]) => expect(Math.hypot(x, y)).toBeCloseTo(EIGHT_GAUSSIANS_RADIUS, 10));
    let within3 = 0;
    let sumSquares = 0;
    for (let index = 0; index < count; index += 1) {
      const [x, y] = modes[dataset.labels[index] as number]!;
      const dx = (dataset.points[2 * index] as number) - x;
      const dy = (dataset.points[2 * index + 1] as number) - y;
      if (Math.hypot(dx, dy) < 3 * std) within3 += 1;
      expect(Math.hypot(dx, dy)).toBeLessThan(6 * std);
      sumSquares += dx * dx + dy * dy;
    }
    expect(within3 / count).toBeGreaterThan(0.97); // P(chi_2 > 9) = 1.1%
    expect(Math.sqrt(sumSquares / (2 * count))).toBeCloseTo(std, 2);
    const wider = toyDataset('eight-gaussians', 100, createNoiseSource('ring'), { std: 0.3 });
    expect(wider.modeStd).toBe(0.3);
  });

  it('two-moons: without jitter points lie on their moon', () => {
    const dataset = toyDataset('two-moons', 1000, createNoiseSource(3), { std: 0 });
    for (let index = 0; index < 1000; index += 1) {
      const x = (dataset.points[2 * index] as number) / 1.5 + 0.5;
      const y = (dataset.points[2 * index + 1] as number) / 1.5 + 0.25;
      const label = dataset.labels[index];
      const radius = label === 0 ? Math.hypot(x, y) : Math.hypot(1 - x, 0.5 - y);
      expect(radius).toBeCloseTo(1, 5);
      if (label === 0) expect(y).toBeGreaterThanOrEqual(-1e-6);
      else expect(y).toBeLessThanOrEqual(0.5 + 1e-6);
    }
  });

  it('swiss-roll: labels are bands of the roll angle, radius grows with the angle', () => {
    const dataset = toyDataset('swiss-roll', 2000, createNoiseSource(4), { std: 0 });
    const scale = 2.5 / (4.5 * Math.PI);
    for (let index = 0; index < 2000; index += 1) {
      const radius = Math.hypot(dataset.points[2 * index] as number, dataset.points[2 * index + 1] as number);
      const angle = radius / scale; // in [1.5 pi, 4.5 pi]
      expect(angle).toBeGreaterThanOrEqual(1.5 * Math.PI - 1e-4);
      expect(angle).toBeLessThanOrEqual(4.5 * Math.PI + 1e-4);
      const band = Math.min(3, Math.floor(((angle - 1.5 * Math.PI) / (3 * Math.PI)) * 4));
      if (Math.abs(((angle - 1.5 * Math.PI) / (3 * Math.PI)) * 4 - Math.round(((angle - 1.5 * Math.PI) / (3 * Math.PI)) * 4)) > 1e-4) {
        expect(dataset.labels[index]).toBe(band);
      }
    }
  });

  it('checkerboard: uniform on the dark squares, label = row parity', () => {
    const dataset = toyDataset('checkerboard', count, createNoiseSource(5));
    const perSquare = new Map<string, number>();
    for (let index = 0; index < count; index += 1) {
      const x = dataset.points[2 * index] as number;
      const y = dataset.points[2 * index + 1] as number;
      expect(Math.abs(x)).toBeLessThanOrEqual(2);
      expect(Math.abs(y)).toBeLessThanOrEqual(2);
      const column = Math.floor(x + 2);
      const row = Math.floor(y + 2);
      expect((row + column) % 2).toBe(0);
      expect(dataset.labels[index]).toBe(row % 2);
      perSquare.set(`${row},${column}`, (perSquare.get(`${row},${column}`) ?? 0) + 1);
    }
    expect(perSquare.size).toBe(8);
    for (const squareCount of perSquare.values()) expect(Math.abs(squareCount - count / 8)).toBeLessThan(0.2 * (count / 8));
  });

  it('rejects bad arguments', () => {
    const noise = createNoiseSource(0);
    expect(() => toyDataset('spirals' as ToyDatasetName, 10, noise)).toThrow(expect.objectContaining({ code: 'unknown-option' }));
    expect(() => toyDataset('two-moons', 0, noise)).toThrow(/count must be a positive integer/);
    expect(() => toyDataset('two-moons', 10, noise, { std: -1 })).toThrow(DiffusionError);
  });
});
