import { createNoiseSource } from '@tfjs-diffusion/core';
import { describe, expect, it } from 'vitest';
import { dropClassLabels } from './class-dropout.js';

describe('dropClassLabels', () => {
  it('replaces labels by the null class at the requested rate, seeded', () => {
    const labels = Int32Array.from({ length: 20_000 }, (_, i) => i % 10);
    const dropped = dropClassLabels(labels, 0.15, 10, createNoiseSource(3));
    const rate = dropped.filter((label) => label === 10).length / labels.length;
    expect(Math.abs(rate - 0.15)).toBeLessThan(0.01);
    dropped.forEach((label, i) => expect(label === 10 || label === labels[i]).toBe(true));
    expect(Array.from(dropClassLabels(labels, 0.15, 10, createNoiseSource(3)))).toEqual(Array.from(dropped));
    expect(dropClassLabels(labels, 0, 10, createNoiseSource(3)).every((label, i) => label === labels[i])).toBe(true);
  });
});
