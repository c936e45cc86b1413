import { describe, expect, it } from 'vitest';
import * as schedules from './index.js';

describe('@tfjs-diffusion/schedules exports', () => {
  it('exports the public functions', () => {
    for (const name of ['createSchedule', 'respaceSchedule', 'respacedTimesteps', 'karrasSigmas', 'describeSchedule']) {
      expect(typeof (schedules as Record<string, unknown>)[name]).toBe('function');
    }
    expect(schedules.SCHEDULE_KINDS).toEqual(['linear', 'cosine', 'scaled-linear', 'sigmoid', 'custom']);
  });
});
