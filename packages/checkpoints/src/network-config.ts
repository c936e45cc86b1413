import { DiffusionError } from '@tfjs-diffusion/core';

/** The metadata key that holds the network configuration as JSON. */
export const CONFIG_METADATA_KEY = 'config';

/** Builds safetensors `__metadata__` with the network `config` as JSON under 'config', plus `extra` strings. */
export function checkpointMetadata(config: object, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new DiffusionError('invalid-argument', 'checkpointMetadata: config must be a plain object');
  }
  if (Object.hasOwn(extra, CONFIG_METADATA_KEY)) {
    throw new DiffusionError('invalid-argument', `checkpointMetadata: extra metadata must not use the reserved key '${CONFIG_METADATA_KEY}'`);
  }
  for (const [key, value] of Object.entries(extra)) {
    if (typeof value !== 'string') {
      throw new DiffusionError('invalid-argument', `checkpointMetadata: extra metadata '${key}' must be a string, got ${typeof value}`);
    }
  }
  let json: string;
  try {
    json = JSON.stringify(config);
  } catch (error) {
    throw new DiffusionError('invalid-argument', `checkpointMetadata: config is not JSON-serialisable (${(error as Error).message})`, {
      cause: error,
    });
  }
  return Object.fromEntries([...Object.entries(extra), [CONFIG_METADATA_KEY, json]]);
}

/** Reads the network configuration stored by `checkpointMetadata`; throws `invalid-checkpoint` naming `fileName` if absent or malformed. */
export function readConfigFromMetadata(metadata: Readonly<Record<string, string>>, fileName: string): Record<string, unknown> {
  const json = Object.hasOwn(metadata, CONFIG_METADATA_KEY) ? metadata[CONFIG_METADATA_KEY] : undefined;
  if (typeof json !== 'string') {
    throw new DiffusionError(
      'invalid-checkpoint',
      `${fileName}: no '${CONFIG_METADATA_KEY}' entry in __metadata__, so the network configuration is unknown`,
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(json);
  } catch (error) {
    throw new DiffusionError(
      'invalid-checkpoint',
      `${fileName}: __metadata__.${CONFIG_METADATA_KEY} is not valid JSON (${(error as Error).message})`,
      { cause: error },
    );
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new DiffusionError('invalid-checkpoint', `${fileName}: __metadata__.${CONFIG_METADATA_KEY} must hold a JSON object`);
  }
  return config as Record<string, unknown>;
}

/** Checks that a checkpoint holds exactly the expected parameters with the expected shapes; the error names every missing, unexpected and mismatched one. */
export function validateAgainstShapes(
  tensors: ReadonlyMap<string, { readonly shape: readonly number[] }>,
  expected: ReadonlyMap<string, readonly number[]>,
  fileName: string,
): void {
  const missing = [...expected.keys()].filter((name) => !tensors.has(name)).sort();
  const unexpected = [...tensors.keys()].filter((name) => !expected.has(name)).sort();
  const mismatched: string[] = [];
  for (const [name, shape] of [...expected.entries()].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))) {
    const actual = tensors.get(name)?.shape;
    if (actual && (actual.length !== shape.length || actual.some((size, axis) => size !== shape[axis]))) {
      mismatched.push(`'${name}' is [${actual.join(', ')}], expected [${shape.join(', ')}]`);
    }
  }
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing parameters: ${listSome(missing.map((name) => `'${name}'`))}`);
  if (unexpected.length > 0) problems.push(`unexpected parameters: ${listSome(unexpected.map((name) => `'${name}'`))}`);
  if (mismatched.length > 0) problems.push(`shape mismatches: ${listSome(mismatched)}`);
  if (problems.length > 0) {
    throw new DiffusionError('invalid-checkpoint', `${fileName} does not match the network: ${problems.join('; ')}`);
  }
}

function listSome(items: readonly string[], limit = 10): string {
  const shown = items.slice(0, limit).join(', ');
  return items.length > limit ? `${shown} and ${items.length - limit} more` : shown;
}
