import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SOURCE = dirname(fileURLToPath(import.meta.url));

/** The files an entry reaches through relative imports, and every package it imports (type-only imports included). */
function importGraph(entry: string): { files: string[]; specifiers: string[] } {
  const files = new Set<string>();
  const specifiers = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const code = readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const match of code.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
      const specifier = (match[1] ?? match[2]) as string;
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else specifiers.add(specifier);
    }
  };
  visit(entry);
  return { files: [...files].map((file) => file.slice(SOURCE.length + 1)).sort(), specifiers: [...specifiers].sort() };
}

describe('the entries', () => {
  it('the main entry is browser-safe: no Node modules, no native code', () => {
    const { files, specifiers } = importGraph(join(SOURCE, 'index.ts'));
    expect(specifiers).toEqual(['vega', 'vega-lite']);
    for (const nodeOnly of ['png.ts', 'node.ts']) expect(files).not.toContain(nodeOnly);
  });

  it('the node entry adds the Node-only files', () => {
    const { files } = importGraph(join(SOURCE, 'node.ts'));
    expect(files).toEqual(expect.arrayContaining(['png.ts', 'node.ts', 'index.ts']));
  });
});
