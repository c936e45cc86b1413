import { describe, expect, it, vi } from 'vitest';
import { createProgress, formatDuration } from './progress.js';

describe('progress', () => {
  it('redraws one line on a terminal and writes plain lines every N steps in a log', () => {
    let terminal = '';
    const bar = createProgress((text) => (terminal += text), true, 10);
    bar.update({ step: 1, totalSteps: 4, loss: 0.5, stepsPerSecond: 2 });
    bar.update({ step: 2, totalSteps: 4, loss: 0.25, stepsPerSecond: 2 });
    bar.break();
    expect(terminal.split('\r')).toHaveLength(3);
    expect(terminal).toContain('[############............] step 2/4  loss 0.2500  2.00 steps/s  ETA 1s');
    expect(terminal.endsWith('\n')).toBe(true);

    let log = '';
    const lines = createProgress((text) => (log += text), false, 2);
    for (let step = 1; step <= 5; step += 1) lines.update({ step, totalSteps: 5, loss: 1, stepsPerSecond: 0.5 });
    expect(log.trim().split('\n')).toEqual([
      'step 2/5  loss 1.0000  0.50 steps/s  ETA 6s',
      'step 4/5  loss 1.0000  0.50 steps/s  ETA 2s',
      'step 5/5  loss 1.0000  0.50 steps/s  ETA 0s',
    ]);
    expect(log).not.toContain('\r');
  });

  it('says a line after ending the bar, and computes steps/s since its creation (from the start step of a resumed run)', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      let terminal = '';
      const bar = createProgress((text) => (terminal += text), true, 10);
      vi.advanceTimersByTime(4000);
      expect(bar.elapsed()).toBeCloseTo(4, 6);
      bar.update({ step: 12, totalSteps: 20, loss: 0.5, startStep: 10 });
      bar.say('checkpoint: x');
      bar.say('done');
      expect(terminal).toContain('step 12/20  loss 0.5000  0.50 steps/s  ETA 16s');
      expect(terminal.endsWith('\x1b[K\ncheckpoint: x\ndone\n')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('formats durations', () => {
    expect(formatDuration(12.4)).toBe('12s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3720)).toBe('1h02m');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});
