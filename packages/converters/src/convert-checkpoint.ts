import { type HostTensor, type LazyTensor, writeModelFile } from '@tfjs-diffusion/checkpoints';
import { DiffusionError } from '@tfjs-diffusion/core';
import { parameterShapes } from '@tfjs-diffusion/networks';
import { type AdmFlagStrings, type AdmModelPlan, planAdmModel } from './adm-model-config.js';
import { LABEL_EMBEDDING, torchShapeOf, toTfjsLayout } from './torch-layout.js';

/** The state_dict names and PyTorch shapes a plan's network has (no weights needed, nothing allocated). */
export function expectedTorchShapes(plan: AdmModelPlan): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const [name, shape] of parameterShapes(plan.network)) shapes.set(name, torchShapeOf(name, shape));
  return shapes;
}

/** Parameters of a plan's network as the PyTorch model counts them (label_emb without the null row). */
export function countTorchParameters(plan: AdmModelPlan): number {
  let total = 0;
  for (const shape of expectedTorchShapes(plan).values()) total += shape.reduce((product, size) => product * size, 1);
  return total;
}

/** The classes of a checkpoint, read from the tensor that has one row per class. */
function classesInWeights(plan: AdmModelPlan, weights: ReadonlyMap<string, LazyTensor>): number | undefined {
  if (plan.kind !== 'classifier') return weights.get(LABEL_EMBEDDING)?.shape[0];
  const pool = plan.network.pool;
  const head =
    pool === 'attention' ? 'out.2.c_proj.weight' : pool === 'adaptive' ? 'out.3.weight' : pool === 'spatial' ? 'out.2.weight' : 'out.3.weight';
  return weights.get(head)?.shape[0];
}

/** Options of `convertAdmCheckpoint`. */
export interface ConvertAdmOptions extends AdmFlagStrings {
  /** The checkpoint's tensors by state_dict name (`readTorchCheckpoint` / `readTorchWeights` of @tfjs-diffusion/checkpoints). */
  readonly weights: ReadonlyMap<string, LazyTensor>;
  /** Storage of the written file; default F16 when every source tensor is F16, else F32. */
  readonly dtype?: 'F32' | 'F16';
  /** Free-form metadata strings kept in the file (source URL, command line, ...). */
  readonly extra?: Readonly<Record<string, string>>;
  /** Called after each tensor (progress). */
  readonly onTensor?: (name: string, index: number, total: number) => void;
}

/** What `convertAdmCheckpoint` returns. */
export interface ConvertedModel {
  readonly plan: AdmModelPlan;
  /** The model file (docs/model-format.md). */
  readonly bytes: Uint8Array;
  readonly dtype: 'F32' | 'F16';
  /** Parameters as PyTorch counts them. */
  readonly parameterCount: number;
}

/**
 * Converts a guided-diffusion / improved-diffusion checkpoint into a tfjs-diffusion model file:
 * plans the network from the README flag strings (`planAdmModel`), checks every state_dict name
 * and shape against it (missing, unexpected and mis-shaped tensors are named), rearranges each
 * tensor to the tfjs layout one at a time (`toTfjsLayout`: conv OIHW -> HWIO, conv1d and linear
 * transposed, a zero null-label row) and writes the metadata (schedule, respacing, prediction,
 * variance, classes).
 */
export function convertAdmCheckpoint(options: ConvertAdmOptions): ConvertedModel {
  const { weights } = options;
  let plan = planAdmModel(options);
  const classes = options.numClasses ?? classesInWeights(plan, weights);
  if (classes !== undefined && classes !== 1000 && (plan.kind === 'classifier' || plan.network.numClasses !== null)) {
    plan = planAdmModel({ ...options, numClasses: classes });
  }
  const expected = expectedTorchShapes(plan);
  // 1. names and shapes, all of them, before converting anything
  const missing = [...expected.keys()].filter((name) => !weights.has(name));
  const unexpected = [...weights.keys()].filter((name) => !expected.has(name));
  const mismatched = [...expected]
    .filter(([name, shape]) => {
      const tensor = weights.get(name);
      return tensor !== undefined && (tensor.shape.length !== shape.length || tensor.shape.some((size, axis) => size !== shape[axis]));
    })
    .map(([name, shape]) => `${name} (file [${weights.get(name)?.shape.join(', ')}], flags [${shape.join(', ')}])`);
  if (missing.length > 0 || unexpected.length > 0 || mismatched.length > 0) {
    const list = (names: string[]): string => names.slice(0, 6).join(', ') + (names.length > 6 ? ` and ${names.length - 6} more` : '');
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`missing ${missing.length}: ${list(missing)}`);
    if (unexpected.length > 0) parts.push(`unexpected ${unexpected.length}: ${list(unexpected)}`);
    if (mismatched.length > 0) parts.push(`shape mismatch ${mismatched.length}: ${list(mismatched)}`);
    throw new DiffusionError('invalid-checkpoint', `the checkpoint does not match the flags (${plan.source} ${plan.kind}): ${parts.join('; ')}`);
  }
  const dtype = options.dtype ?? ([...weights.values()].every((tensor) => tensor.dtype === 'F16') ? 'F16' : 'F32');
  // 2. one tensor at a time: decode, rearrange, drop the decoded copy
  const tfjsShapes = parameterShapes(plan.network);
  const tensors = new Map<string, HostTensor>();
  let index = 0;
  let parameterCount = 0;
  for (const [name, shape] of tfjsShapes) {
    const source = weights.get(name) as LazyTensor;
    tensors.set(name, { shape, data: toTfjsLayout(name, source.read(), source.shape, shape) });
    parameterCount += source.shape.reduce((product, size) => product * size, 1);
    index += 1;
    options.onTensor?.(name, index, tfjsShapes.size);
  }
  const extra: Record<string, string> = {
    source: plan.source,
    ...(options.modelFlags ? { modelFlags: options.modelFlags } : {}),
    ...(options.diffusionFlags ? { diffusionFlags: options.diffusionFlags } : {}),
    ...(options.classifierFlags ? { classifierFlags: options.classifierFlags } : {}),
    ...(plan.sampling.classifier_scale !== undefined ? { suggestedClassifierScale: plan.sampling.classifier_scale } : {}),
    ...options.extra,
  };
  const bytes = writeModelFile({ metadata: plan.metadata, tensors, dtype, extra });
  return { plan, bytes, dtype, parameterCount };
}
