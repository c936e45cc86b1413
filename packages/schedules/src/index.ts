export { createSchedule } from './create-schedule.js';
export {
  SCHEDULE_KINDS,
  type CosineScheduleOptions,
  type CustomScheduleOptions,
  type LinearScheduleOptions,
  type ScaledLinearScheduleOptions,
  type ScheduleKind,
  type ScheduleOptions,
  type SigmoidScheduleOptions,
} from './schedule-options.js';
export { respaceSchedule } from './respace-schedule.js';
export { respacedTimesteps } from './respaced-timesteps.js';
export { karrasSigmas, type KarrasSigmasOptions } from './karras-sigmas.js';
export { describeSchedule, type ScheduleDescription } from './describe-schedule.js';
