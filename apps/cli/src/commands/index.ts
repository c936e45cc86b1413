import type { Command } from '../command.js';
import { scheduleCommand } from './schedule.js';
import { toyCommand } from './toy.js';

export const COMMANDS: readonly Command[] = [scheduleCommand, toyCommand];
