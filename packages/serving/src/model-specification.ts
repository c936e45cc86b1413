import { basename, extname } from 'node:path';
import type { ModelSpecification } from './load-served-model.js';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Reads a `--model` value: `NAME=FILE`, or a bare `FILE` named after its file name without the
 * extension (models/mnist-unet.safetensors -> mnist-unet). Throws RangeError naming the problem.
 */
export function parseModelSpecification(text: string): ModelSpecification {
  const separator = text.indexOf('=');
  const path = separator < 0 ? text : text.slice(separator + 1);
  const name = separator < 0 ? basename(text, extname(text)) : text.slice(0, separator);
  if (!NAME_PATTERN.test(name))
    throw new RangeError(`--model ${text}: the name ${JSON.stringify(name)} must be 1-64 letters, digits, '.', '_' or '-'`);
  if (path.trim() === '') throw new RangeError(`--model ${text}: no file after '='`);
  return { name, path };
}

/** Reads every `--model` value; names must be unique. */
export function parseModelSpecifications(texts: readonly string[]): ModelSpecification[] {
  const specifications = texts.map(parseModelSpecification);
  const seen = new Set<string>();
  for (const specification of specifications) {
    if (seen.has(specification.name)) throw new RangeError(`--model: the name ${specification.name} is given twice`);
    seen.add(specification.name);
  }
  return specifications;
}
