import { createSchedule, describeSchedule, respaceSchedule } from '@tfjs-diffusion/schedules';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { integerOption, stringOption } from '../options.js';
import { lineChart } from '@tfjs-diffusion/plots/node';
import { optionsFromUsage } from '../usage-options.js';

const KINDS = ['linear', 'cosine', 'scaled-linear', 'sigmoid'] as const;
type Kind = (typeof KINDS)[number];

const USAGE = [
  'usage: tfjs-diffusion schedule --kind KIND[,KIND...] [--timesteps T] [--respace SPEC] (--json | --plot FILE.png|svg)',
  '',
  `  --kind KIND       ${KINDS.join(' | ')}; several, comma separated, with --plot`,
  '  --timesteps T     number of training timesteps (default 1000)',
  '  --respace SPEC    "ddim50", "250", "10,15,20", "leading:N", "trailing:N" or "linspace:N"',
  '  --json            print ONE JSON object {kind, timesteps, respace, kept, betas, alphaBars}',
  '  --plot FILE.png|svg  draw alphaBar against t/T for the requested kinds (axes, legend)',
].join('\n');

export const scheduleCommand: Command = {
  name: 'schedule',
  summary: 'print a noise schedule as JSON, or plot alphaBar against t/T',
  usage: USAGE,
  options: optionsFromUsage(USAGE),
  async run(values, io) {
    const kindList = (stringOption(values, 'kind') ?? 'linear').split(',').map((kind) => kind.trim());
    for (const kind of kindList) {
      if (!(KINDS as readonly string[]).includes(kind)) throw new UsageError(`--kind must be one of ${KINDS.join(', ')}, got '${kind}'`);
    }
    const timesteps = integerOption(values, 'timesteps', 1000, 1, 1_000_000);
    const respace = stringOption(values, 'respace');
    const plot = stringOption(values, 'plot');
    if (!values['json'] && !plot) throw new UsageError('say what to produce: --json, --plot FILE.png, or both');
    if (values['json'] && kindList.length !== 1) throw new UsageError('--json prints one schedule: give a single --kind');
    const schedules = kindList.map((kind) => {
      const full = createSchedule({ kind: kind as Kind, timesteps });
      return respace === undefined ? full : respaceSchedule(full, respace);
    });
    if (values['json']) io.stdout(`${JSON.stringify(describeSchedule(schedules[0]!))}\n`);
    if (plot) {
      const chart = lineChart(
        schedules.map((schedule, index) => ({
          x: schedule.timesteps.map((t) => t / timesteps),
          y: Array.from(schedule.alphaBars),
          name: `${kindList[index]}${respace === undefined ? '' : ` (${respace})`}`,
        })),
        { yRange: [0, 1], title: `Noise schedules, T = ${timesteps}`, xTitle: 't / T', yTitle: 'alphaBar_t (signal fraction)' },
      );
      chart.save(plot);
      io.stderr(`wrote ${plot}: alphaBar against t/T for ${kindList.join(', ')}\n`);
    }
  },
};
