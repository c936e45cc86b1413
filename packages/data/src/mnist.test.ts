import { describe, expect, it } from 'vitest';
import { loadMnist } from './mnist.js';

const PACKAGE_COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

function counts(labels: Int32Array): number[] {
  const result = new Array<number>(10).fill(0);
  labels.forEach((label) => (result[label] = (result[label] as number) + 1));
  return result;
}

describe('loadMnist', () => {
  it('loads the 10,000 digits of the mnist package with a fixed per-class split', async () => {
    const [train, test] = await Promise.all([loadMnist(), loadMnist({ split: 'test' })]);
    expect(train.count + test.count).toBe(10_000);
    expect([train.height, train.width, train.channels, train.numClasses]).toEqual([28, 28, 1, 10]);
    expect(train.images.length).toBe(train.count * 784);
    const total = counts(train.labels).map((value, digit) => value + (counts(test.labels)[digit] as number));
    expect(total).toEqual(PACKAGE_COUNTS);
    total.forEach((value) => {
      expect(value).toBeGreaterThanOrEqual(863);
      expect(value).toBeLessThanOrEqual(1127);
    });
    expect(counts(test.labels)).toEqual(PACKAGE_COUNTS.map((value) => Math.round(value * 0.1)));

    let minimum = Infinity;
    let maximum = -Infinity;
    let sum = 0;
    for (const value of train.images) {
      minimum = Math.min(minimum, value);
      maximum = Math.max(maximum, value);
      sum += value;
    }
    expect(minimum).toBe(-1);
    expect(maximum).toBe(1);
    expect(sum / train.images.length).toBeLessThan(-0.6); // mostly black background
    // The order mixes the classes from the start.
    expect(new Set(train.labels.subarray(0, 100)).size).toBe(10);
  });

  it('is deterministic and the splits are disjoint', async () => {
    const [first, second, test] = await Promise.all([
      loadMnist({ split: 'test' }),
      loadMnist({ split: 'test' }),
      loadMnist({ split: 'test', testFraction: 0.2 }),
    ]);
    const sameBytes = (left: ArrayBufferView, right: ArrayBufferView): boolean =>
      Buffer.from(left.buffer, left.byteOffset, left.byteLength).equals(Buffer.from(right.buffer, right.byteOffset, right.byteLength));
    expect(sameBytes(second.images, first.images)).toBe(true);
    expect(sameBytes(second.labels, first.labels)).toBe(true);
    expect(test.count).toBe(PACKAGE_COUNTS.reduce((sum, value) => sum + Math.round(value * 0.2), 0));
    const train = await loadMnist({ split: 'train' });
    const key = (images: Float32Array, index: number): string => {
      // FNV-1a over the float bits, twice with different seeds: a 64-bit fingerprint of the image.
      const bits = new Uint32Array(images.buffer, images.byteOffset + index * 784 * 4, 784);
      let first = 0x811c9dc5;
      let second = 0x12345678;
      for (const word of bits) {
        first = Math.imul(first ^ word, 0x01000193) >>> 0;
        second = Math.imul(second ^ word, 0x01000193) >>> 0;
      }
      return `${first}:${second}`;
    };
    const testImages = new Set(Array.from({ length: first.count }, (_, index) => key(first.images, index)));
    let shared = 0;
    for (let index = 0; index < train.count; index += 1) if (testImages.has(key(train.images, index))) shared += 1;
    expect(shared).toBeLessThan(5); // only exact duplicates inside the source data could appear on both sides
    await expect(loadMnist({ testFraction: 2 })).rejects.toThrow(/testFraction must be in \[0, 1\]/);
  });
});
