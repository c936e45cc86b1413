import { describe, expect, it } from 'vitest';
import { workerExecArgv } from './worker-exec-argv.js';

describe('workerExecArgv', () => {
  it('removes --conditions given as one word or as two, value included', () => {
    expect(workerExecArgv(['--conditions', '@tfjs-diffusion/source', '--max-old-space-size=4096'])).toEqual(['--max-old-space-size=4096']);
    expect(workerExecArgv(['--conditions=@tfjs-diffusion/source', '--enable-source-maps'])).toEqual(['--enable-source-maps']);
    expect(workerExecArgv(['-C', 'development', '--no-warnings', '-Cother'])).toEqual(['--no-warnings']);
  });

  it('keeps every other flag in order, including ones after a two-word condition', () => {
    expect(workerExecArgv(['--stack-size=2000', '-C', 'x', '--expose-gc', '--conditions', 'y', '--trace-warnings'])).toEqual([
      '--stack-size=2000',
      '--expose-gc',
      '--trace-warnings',
    ]);
    expect(workerExecArgv([])).toEqual([]);
  });
});
