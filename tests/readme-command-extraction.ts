import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One shell command found in a Markdown file. */
export interface DocumentedCommand {
  /** The command as written (continuation lines joined, a trailing `# comment` removed). */
  readonly command: string;
  /** Where it is: "docs/guides/swap-backends.md:51". */
  readonly location: string;
  /** 'block' for a fenced sh/bash/shell/console block, 'inline' for `pnpm tfjs-diffusion ...` in prose. */
  readonly source: 'block' | 'inline';
}

const SHELL_LANGUAGES = new Set(['sh', 'bash', 'shell', 'console', 'shell-session', 'zsh']);
/** Inline code spans that are commands a reader would paste. */
const INLINE_COMMAND = /^(pnpm|node|bash|npm|npx|curl) /;

/** The Markdown files whose commands a newcomer runs: README.md and docs/ (not the generated docs/api/). */
export function markdownFiles(root: string): string[] {
  const files = ['README.md'];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(join(root, folder)).sort()) {
      const path = join(folder, entry);
      if (path === join('docs', 'api')) continue;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (entry.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  return files;
}

/** Removes a trailing shell comment that is outside quotes (`cmd --json     # note`). */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let index = 0; index < line.length; index += 1) {
    const character = line[index] as string;
    if (quote) {
      if (character === quote) quote = null;
    } else if (character === '"' || character === "'") {
      quote = character;
    } else if (character === '#' && (index === 0 || /\s/.test(line[index - 1] as string))) {
      return line.slice(0, index).trimEnd();
    }
  }
  return line.trimEnd();
}

/** Every command of one Markdown text: lines of shell blocks (a leading `$ ` dropped) and inline command spans. */
export function extractCommands(markdown: string, file: string): DocumentedCommand[] {
  const commands: DocumentedCommand[] = [];
  const lines = markdown.split('\n');
  let fence: { marker: string; shell: boolean } | null = null;
  let pending: { text: string; line: number } | null = null;
  lines.forEach((raw, index) => {
    const fenceMatch = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(raw);
    if (fenceMatch) {
      const marker = fenceMatch[2] as string;
      if (fence === null) {
        fence = { marker, shell: SHELL_LANGUAGES.has((fenceMatch[3] as string).toLowerCase()) };
        return;
      }
      if (marker.startsWith(fence.marker[0] as string) && marker.length >= fence.marker.length && (fenceMatch[3] as string) === '') {
        fence = null;
        pending = null;
        return;
      }
    }
    if (fence !== null) {
      if (!fence.shell) return;
      let text = raw.trim();
      if (pending === null && (text === '' || text.startsWith('#'))) return;
      if (text.startsWith('$ ')) text = text.slice(2);
      const joined = pending === null ? text : `${pending.text} ${text}`;
      const start = pending === null ? index + 1 : pending.line;
      if (joined.endsWith('\\')) {
        pending = { text: joined.slice(0, -1).trimEnd(), line: start };
        return;
      }
      pending = null;
      const command = stripComment(joined);
      if (command !== '') commands.push({ command, location: `${file}:${start}`, source: 'block' });
      return;
    }
    for (const span of raw.matchAll(/(?<!`)`([^`]+)`(?!`)/g)) {
      const text = (span[1] as string).trim();
      if (INLINE_COMMAND.test(text)) commands.push({ command: text, location: `${file}:${index + 1}`, source: 'inline' });
    }
  });
  return commands;
}

/** Every command of README.md and docs/**.md, in file order. */
export function documentedCommands(root: string): DocumentedCommand[] {
  return markdownFiles(root).flatMap((file) => extractCommands(readFileSync(join(root, file), 'utf8'), relative(root, join(root, file))));
}
