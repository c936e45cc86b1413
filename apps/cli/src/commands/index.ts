import type { Command } from '../command.js';
import { benchCommand } from './bench.js';
import { scheduleCommand } from './schedule.js';
import { toyCommand } from './toy.js';
import { trainCommand } from './train.js';
import { sampleCommand } from './sample.js';
import { nllCommand } from './nll.js';
import { trainClassifierCommand } from './train-classifier.js';
import { evalCommand } from './eval.js';
import { convertCommand } from './convert.js';
import { workerCommand } from './worker.js';

export const COMMANDS: readonly Command[] = [
  scheduleCommand,
  toyCommand,
  benchCommand,
  trainCommand,
  sampleCommand,
  nllCommand,
  trainClassifierCommand,
  evalCommand,
  convertCommand,
  workerCommand,
];
