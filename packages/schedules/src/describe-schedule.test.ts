import { describe, expect, it } from 'vitest';
import { createSchedule } from './create-schedule.js';
import { describeSchedule } from './describe-schedule.js';
import { respaceSchedule } from './respace-schedule.js';

describe('describeSchedule', () => {
  it('describes a full schedule as plain JSON data', () => {
    const schedule = createSchedule({ kind: 'linear', timesteps: 4, scaleWithTimesteps: false });
    const description = describeSchedule(schedule);
    expect(description).toEqual({
      kind: 'linear',
      timesteps: 4,
      respace: null,
      kept: [0, 1, 2, 3],
      betas: Array.from(schedule.betas),
      alphaBars: Array.from(schedule.alphaBars),
    });
    expect(Array.isArray(description.betas)).toBe(true);
    expect(JSON.parse(JSON.stringify(description))).toEqual(description);
  });

  it('describes a respaced schedule with its spec, kept steps and recomputed betas', () => {
    const schedule = respaceSchedule(createSchedule({ kind: 'cosine', timesteps: 1000 }), 'leading:10');
    const description = describeSchedule(schedule);
    expect(description.kind).toBe('cosine');
    expect(description.timesteps).toBe(1000);
    expect(description.respace).toBe('leading:10');
    expect(description.kept).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(description.betas).toEqual(Array.from(schedule.betas));
    expect(description.alphaBars.length).toBe(10);
  });
});
