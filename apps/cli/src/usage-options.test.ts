import { describe, expect, it } from 'vitest';
import { scheduleCommand } from './commands/schedule.js';
import { toyCommand } from './commands/toy.js';
import { trainClassifierCommand } from './commands/train-classifier.js';
import { trainCommand } from './commands/train.js';
import { optionsFromUsage } from './usage-options.js';

const flags = (options: object) =>
  Object.entries(options)
    .filter(([, option]) => (option as { type: string }).type === 'boolean')
    .map(([name]) => name)
    .sort();

describe('optionsFromUsage', () => {
  it('reads `--name VALUE` as a string option and a bare `--name` as a flag, skipping the synopsis and continuation lines', () => {
    const usage = [
      'usage: tool run --out FILE [--fast]',
      '',
      '  --out FILE.png|svg   where it goes',
      '  --mode a|b           a or b;',
      '                       --not-an-option here',
      '  --fast               a flag',
      '  --json',
    ].join('\n');
    expect(optionsFromUsage(usage)).toEqual({
      out: { type: 'string' },
      mode: { type: 'string' },
      fast: { type: 'boolean' },
      json: { type: 'boolean' },
    });
  });

  it('gives the training commands exactly their documented options', () => {
    expect(Object.keys(trainCommand.options)).toHaveLength(26);
    expect(flags(trainCommand.options)).toEqual(['importance-sampling', 'json', 'resume', 'skip-bad-images', 'verbose']);
    expect(trainCommand.options['ship-weights']).toEqual({ type: 'string' });
    expect(Object.keys(trainClassifierCommand.options)).toHaveLength(21);
    expect(flags(trainClassifierCommand.options)).toEqual(['clean', 'json', 'verbose']);
    expect(Object.keys(toyCommand.options).sort()).toEqual(
      [
        'backend',
        'batch-size',
        'dataset',
        'eta',
        'json',
        'learning-rate',
        'out',
        'sampler',
        'samples',
        'seed',
        'steps',
        'timesteps',
        'train-steps',
        'verbose',
      ].sort(),
    );
    expect(scheduleCommand.options).toEqual({
      kind: { type: 'string' },
      timesteps: { type: 'string' },
      respace: { type: 'string' },
      json: { type: 'boolean' },
      plot: { type: 'string' },
    });
  });
});
