export { classifierFreeGuidance, type ClassifierFreeGuidanceOptions } from './classifier-free-guidance.js';
export { classifierGuidance, type ClassifierGuidanceOptions } from './classifier-guidance.js';
export {
  createClassifierObjective,
  type ClassifierObjective,
  type ClassifierObjectiveInput,
  type ClassifierObjectiveOptions,
  type ClassifierObjectiveResult,
} from './classifier-objective.js';
export { composeGuidance } from './compose-guidance.js';
export { GUIDANCE_NAMES, guidanceByName, type GuidanceByNameOptions, type GuidanceName } from './guidance-by-name.js';
export { nullClassModel } from './null-class-model.js';
