import { type LazyTensor, encodeModelFileTensor, modelFileLayout } from '@tfjs-diffusion/checkpoints';
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

/** What `convertAdmCheckpointTo` returns. */
export interface ConversionSummary {
  readonly plan: AdmModelPlan;
  readonly dtype: 'F32' | 'F16';
  /** Parameters as PyTorch counts them. */
  readonly parameterCount: number;
  /** The size of the model file written. */
  readonly byteLength: number;
}

/** What `convertAdmCheckpoint` returns. */
export interface ConvertedModel extends ConversionSummary {
  /** The model file (docs/model-format.md). */
  readonly bytes: Uint8Array;
}

/**
 * Converts a guided-diffusion / improved-diffusion checkpoint into a tfjs-diffusion model file,
 * streamed: plans the network from the README flag strings (`planAdmModel`), checks every
 * state_dict name and shape against it (missing, unexpected and mis-shaped tensors are named),
 * writes the file's header (metadata: schedule, respacing, prediction, variance, classes) with
 * `write`, then each tensor in file order: read from the checkpoint, rearranged to the tfjs layout
 * (`toTfjsLayout`: conv OIHW -> HWIO, conv1d and linear transposed, a zero null-label row),
 * encoded and handed to `write` before the next one is read. Only one tensor is held at a time.
 */
export function convertAdmCheckpointTo(
  options: ConvertAdmOptions,
  write: (chunk: Uint8Array, offset: number, byteLength: number) => void,
): ConversionSummary {
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
  const extra: Record<string, string> = {
    source: plan.source,
    ...(options.modelFlags ? { modelFlags: options.modelFlags } : {}),
    ...(options.diffusionFlags ? { diffusionFlags: options.diffusionFlags } : {}),
    ...(options.classifierFlags ? { classifierFlags: options.classifierFlags } : {}),
    ...(plan.sampling.classifier_scale !== undefined ? { suggestedClassifierScale: plan.sampling.classifier_scale } : {}),
    ...options.extra,
  };
  // 2. the header, from names and shapes alone
  const layout = modelFileLayout({ metadata: plan.metadata, shapes: parameterShapes(plan.network), dtype, extra });
  write(layout.header, 0, layout.byteLength);
  // 3. one tensor at a time, in file order: decode, rearrange, encode, write, drop
  let parameterCount = 0;
  layout.entries.forEach((entry, index) => {
    const source = weights.get(entry.name) as LazyTensor;
    const encoded = encodeModelFileTensor(layout, index, toTfjsLayout(entry.name, source.read(), source.shape, entry.shape));
    write(encoded, layout.header.length + entry.begin, layout.byteLength);
    parameterCount += source.shape.reduce((product, size) => product * size, 1);
    options.onTensor?.(entry.name, index + 1, layout.entries.length);
  });
  return { plan, dtype, parameterCount, byteLength: layout.byteLength };
}

/** `convertAdmCheckpointTo` into memory: the model file's bytes (one array of the file's size; the tensors are not held beside it). */
export function convertAdmCheckpoint(options: ConvertAdmOptions): ConvertedModel {
  let bytes: Uint8Array | null = null;
  const summary = convertAdmCheckpointTo(options, (chunk, offset, byteLength) => {
    bytes ??= new Uint8Array(byteLength);
    bytes.set(chunk, offset);
  });
  return { ...summary, bytes: bytes ?? new Uint8Array(0) };
}
