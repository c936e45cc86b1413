/**
 * Every package under packages/ has a README.md titled with its npm name and holding at least one
 * fenced code block (a runnable example; issue 10: "every public package has a README with a
 * runnable example"). Reads files only: no build needed.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packagesDirectory = fileURLToPath(new URL('../../packages', import.meta.url));

const packageDirectories = readdirSync(packagesDirectory, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(packagesDirectory, entry.name, 'package.json')))
  .map((entry) => entry.name)
  .sort();

/** The fenced code blocks of a Markdown text: an opening ``` line (with an optional info string) up to the next closing ``` line. */
function fencedCodeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```[^\n`]*\n([\s\S]*?)^```[ \t]*$/gm)].map((match) => match[1] as string);
}

describe('package READMEs', () => {
  it('finds the packages', () => {
    expect(packageDirectories).toEqual(expect.arrayContaining(['core', 'schedules', 'samplers', 'networks', 'checkpoints', 'pipelines']));
  });

  it('counts fenced code blocks', () => {
    expect(fencedCodeBlocks('# x\n\n```js\nconsole.log(1);\n```\n\ntext\n\n```\n1\n```\n')).toEqual(['console.log(1);\n', '1\n']);
    expect(fencedCodeBlocks('# x\n\nno code, only `inline` code\n')).toEqual([]);
    expect(fencedCodeBlocks('# x\n\n```js\nnever closed\n')).toEqual([]);
  });

  it.each(packageDirectories)('packages/%s has a README.md with its name and a fenced code block', (directory) => {
    const readmePath = join(packagesDirectory, directory, 'README.md');
    expect(existsSync(readmePath), `packages/${directory}/README.md is missing`).toBe(true);
    const readme = readFileSync(readmePath, 'utf8');
    const { name } = JSON.parse(readFileSync(join(packagesDirectory, directory, 'package.json'), 'utf8')) as { name: string };
    expect(readme.split('\n')[0], `packages/${directory}/README.md must start with '# ${name}'`).toMatch(
      new RegExp(`^# ${name.replace(/[/@.-]/g, '\\$&')}\\b`),
    );
    const blocks = fencedCodeBlocks(readme);
    expect(blocks.length, `packages/${directory}/README.md has no fenced code block`).toBeGreaterThan(0);
    expect(
      blocks.some((block) => block.trim() !== ''),
      `packages/${directory}/README.md has only empty code blocks`,
    ).toBe(true);
  });
});
