/**
 * Every command in README.md and docs/**.md, as written. Each command is classified by the first rule
 * below that matches it:
 *  - run: executed exactly as written (bash -c, from the repository root) with output checks; files
 *    it writes that did not exist before are removed afterwards;
 *  - skip: not run, for the reason given (slow, long-running, needs credentials, changes the
 *    repository, or run by another test); every skipped command is listed as a skipped test.
 * Every `tfjs-diffusion` command, run or skipped, is also parsed by the CLI itself (command name,
 * options, repeated options, output file names), so a misspelt option in a slow command fails too.
 * A command no rule matches fails the test: classify it here. Needs the CLI built (`pnpm build`;
 * the root `pnpm test` builds first).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { documentedCommands, extractCommands, type DocumentedCommand } from './readme-command-extraction.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const HAS_JQ = spawnSync('bash', ['-c', 'command -v jq']).status === 0;

interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

interface Rule {
  readonly match: RegExp;
  readonly action: 'run' | 'skip';
  /** Why it is skipped, or what the run checks. */
  readonly reason: string;
  /** Output checks for a run, after exit status 0. */
  readonly check?: (result: RunResult, command: string) => void;
  readonly timeoutSeconds?: number;
}

/** The last non-empty stdout line, parsed as JSON (pnpm without -s prints its banner first). */
function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
}

function outputFiles(command: string): string[] {
  return [...command.matchAll(/--(?:out|plot|chain) (\S+)/g)].map((match) => match[1] as string);
}

function checkPngOutputs(_result: RunResult, command: string): void {
  for (const file of outputFiles(command).filter((name) => name.endsWith('.png'))) {
    const bytes = readFileSync(join(root, file));
    // A PNG: the signature, then the IHDR chunk with width and height (big-endian) at bytes 16 and 20.
    expect(bytes.subarray(0, 8).toString('hex'), file).toBe('89504e470d0a1a0a');
    expect(bytes.readUInt32BE(16) * bytes.readUInt32BE(20), file).toBeGreaterThan(100 * 100);
  }
}

const RULES: readonly Rule[] = [
  // Never run: they change this repository, publish, ask questions, or install.
  {
    match: /^bash scripts\/setup\.sh/,
    action: 'skip',
    reason: 'the whole machine setup (apt, pnpm install, build) and the 10x10 grid: .ci/run does it',
  },
  { match: /^pnpm test$/, action: 'skip', reason: 'the whole suite, which this test is part of' },
  {
    match: /^(pnpm install|npm install|npm i )/,
    action: 'skip',
    reason: 'installs packages (the setup does it; tests/packaging installs tarballs in a scratch project)',
  },
  { match: /^npm login/, action: 'skip', reason: 'needs npm credentials' },
  { match: /^pnpm changeset$/, action: 'skip', reason: 'interactive: asks which packages changed' },
  { match: /^bash scripts\/release\.sh (version|publish$)/, action: 'skip', reason: 'changes versions or publishes to npm' },
  {
    match: /^bash scripts\/release\.sh publish --dry-run/,
    action: 'skip',
    reason: '.ci/run runs the release dry run (builds and packs every package: minutes)',
  },
  {
    match: /^bash scripts\/release\.sh pack/,
    action: 'skip',
    reason: 'builds and packs every package (minutes); tests/packaging packs and installs tarballs',
  },
  { match: /^cd /, action: 'skip', reason: 'a placeholder folder of the reader' },
  { match: /^(cp|mkdir|nohup) /, action: 'skip', reason: 'prepares or installs files for the slow commands around it (cp overwrites models/)' },
  {
    match: /models\/mnist-(classifier|evaluation-classifier|unet)\.safetensors/,
    action: 'skip',
    reason: 'overwrites a shipped model in models/ (and trains for minutes)',
  },
  {
    match: /^redis-(server|cli) /,
    action: 'skip',
    reason: 'starts or stops a Redis daemon for the serving queue (the serving tests start their own)',
  },
  { match: /^node scripts\/bench-serving/, action: 'skip', reason: 'load-tests a running server (minutes)' },
  { match: /^pnpm server$/, action: 'skip', reason: "pnpm's own store-server command: the README names it as the one not to use" },
  { match: /^pnpm (web|run server|run serve|server)\b|^pnpm --filter \S+ run serve/, action: 'skip', reason: 'starts a long-running server' },
  { match: /^curl .*(localhost|127\.0\.0\.1)/, action: 'skip', reason: 'needs the server of the command before it running' },
  { match: /^curl -L /, action: 'skip', reason: 'downloads a published checkpoint (hundreds of MB)' },
  { match: /^[A-Z_]+="[^"]*"$/, action: 'skip', reason: 'sets a shell variable for the command after it' },
  { match: /^node packages\/converters\/scripts\//, action: 'skip', reason: 'measures published checkpoints (downloads them; minutes)' },
  {
    match: /^node packages\/conformance\/scripts\/(winograd|group-norm)-cpu-time\.mjs /,
    action: 'skip',
    reason: 'measures kernel speed (a minute of CPU; figures for docs/benchmarks.md, not a test)',
  },
  {
    match: /^(pnpm build|pnpm exec turbo|pnpm turbo)( |$)|&& pnpm exec typedoc/,
    action: 'skip',
    reason: 'builds the workspace: the root pnpm test and .ci/run build first',
  },
  { match: /^pnpm docs:api$/, action: 'skip', reason: '.ci/run builds the API docs' },
  { match: /^node scripts\/check-packages\.mjs/, action: 'skip', reason: 'tests/packaging/check-packages.test.ts runs it' },
  { match: /^node scripts\/mnist-results\.mjs/, action: 'skip', reason: 'samples and evaluates thousands of digits (an hour)' },
  { match: /^pnpm vitest run /, action: 'skip', reason: 'a test run: part of the root pnpm test' },
  {
    match: /^(VK_ICD_FILENAMES=\S+ )?node examples\/swap-backends\//,
    action: 'skip',
    reason: 'examples/swap-backends/src/compare-backends.test.ts runs it as written',
  },
  {
    match: /^node (threes|train-on-folder|compare-backends|sample)\.m?js/,
    action: 'skip',
    reason: "a program saved in the reader's own project (the guides' tests run these programs)",
  },
  { match: /^(pnpm|npm|node|bash)( -s)?$/, action: 'skip', reason: 'a program name in prose, not a command' },
  // The command line: the quick ones run, the slow ones are parsed only.
  { match: /<command>|\.\.\./, action: 'skip', reason: 'a placeholder, not a command' },
  {
    match: /^pnpm (-s )?tfjs-diffusion (--help|-h)$/,
    action: 'run',
    reason: 'lists the commands',
    check: ({ stdout }) => expect(stdout).toMatch(/usage: tfjs-diffusion <command>[\s\S]*sample/),
  },
  {
    match: /^pnpm (-s )?tfjs-diffusion [a-z-]+ --help$/,
    action: 'run',
    reason: "prints the command's usage",
    check: ({ stdout }) => expect(stdout).toMatch(/usage: tfjs-diffusion [a-z-]+/),
  },
  {
    match: /^pnpm -s tfjs-diffusion schedule [^|]*--json \| jq /,
    action: HAS_JQ ? 'run' : 'skip',
    reason: HAS_JQ ? 'piped JSON: pnpm -s keeps the banner off stdout, so jq gets the JSON alone' : 'jq is not installed here (.ci/run installs it)',
    check: ({ stdout }) => expect(JSON.parse(stdout)).toBeDefined(),
  },
  {
    match: /^pnpm (-s )?tfjs-diffusion (--version|-v)$/,
    action: 'run',
    reason: 'prints the version',
    check: ({ stdout }) => expect(stdout.trim().split('\n').pop()).toMatch(/^\d+\.\d+\.\d+$/),
  },
  {
    match: /^pnpm (-s )?tfjs-diffusion schedule .*--json/,
    action: 'run',
    reason: 'one schedule as JSON',
    check: ({ stdout }, command) => {
      const schedule = lastJson(stdout);
      expect(Object.keys(schedule).sort()).toEqual(['alphaBars', 'betas', 'kept', 'kind', 'respace', 'timesteps']);
      const respace = /--respace ddim(\d+)/.exec(command);
      if (respace) expect((schedule['kept'] as number[]).length).toBe(Number(respace[1]));
      // With -s, stdout is the JSON alone, so it can be piped (| jq).
      if (command.startsWith('pnpm -s ')) expect(stdout.trim().split('\n')).toHaveLength(1);
    },
  },
  { match: /^pnpm (-s )?tfjs-diffusion schedule .*--plot/, action: 'run', reason: 'the schedule plot', check: checkPngOutputs },
  {
    match:
      /^(TFJS_DIFFUSION_BACKEND=wasm )?pnpm (-s )?tfjs-diffusion sample --classes [0-9,]{1,5} --per-class [1-4] --steps [12]?\d (?!.*--backend cpu)/,
    action: 'run',
    reason: 'a small grid (at most 3 classes x 4 images x 29 steps, wasm)',
    check: (result, command) => {
      checkPngOutputs(result, command);
      if (command.includes('--json')) expect(lastJson(result.stdout)['imagesPerSecond']).toBeGreaterThan(0);
    },
    timeoutSeconds: 120,
  },
  // The large-images benchmark (docs/benchmarks.md): the original code, a 1.2 GB checkpoint, minutes of three runtimes.
  {
    match: /^git clone https:\/\/github\.com\/openai\/guided-diffusion /,
    action: 'skip',
    reason: 'clones the original ADM code for the PyTorch peer (network; outside the repository)',
  },
  {
    match: /^TFJS_DIFFUSION_GUIDED_DIFFUSION=\S+ \/usr\/bin\/python3 scripts\/torch-fixtures\/make_random_checkpoint\.py /,
    action: 'skip',
    reason: 'writes a 1.2 GB random-weight checkpoint with the original guided-diffusion code (python3-torch and its checkout)',
  },
  {
    match: /^\/usr\/bin\/python3 packages\/benchmarks\/peers\/adm_peer\.py --check-device --device cuda$/,
    action: 'skip',
    reason:
      'needs a CUDA build of PyTorch (a GPU machine); with Debian python3-torch it exits 2 with one line, which packages/benchmarks/src/large-images-processes.test.ts checks',
  },
  {
    match: /^pnpm -s tfjs-diffusion bench --architecture adm-imagenet-64 --backend webgpu /,
    action: 'skip',
    reason: 'the real-size ADM benchmark on a GPU machine (WebGPU on Dawn against PyTorch CUDA; minutes, and no GPU here); parsed by the CLI',
  },
  {
    match: /^pnpm -s tfjs-diffusion bench --architecture adm-imagenet-64 /,
    action: 'skip',
    reason:
      'the real-size ADM benchmark: converts and exports a 1.2 GB checkpoint, then times three runtimes at batch 1 and 4 (minutes); parsed by the CLI',
  },
  {
    match: /tfjs-diffusion (sample|eval|nll|train|train-classifier|toy|bench|convert)\b/,
    action: 'skip',
    reason: 'trains or samples for more than a minute: parsed by the CLI only',
  },
  { match: /^node apps\/cli\/dist\/main\.js$/, action: 'skip', reason: "names the CLI's entry point, not a command" },
  { match: /^node apps\/cli\/dist\/main\.js /, action: 'skip', reason: 'trains for minutes to hours: parsed by the CLI only' },
];

function ruleFor(command: string): Rule | undefined {
  return RULES.find((rule) => rule.match.test(command));
}

/** Splits a shell command into words (quotes kept together), dropping redirections and a trailing &. */
function shellWords(command: string): string[] {
  const words = [...command.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2] ?? (match[3] as string));
  const kept: string[] = [];
  for (let index = 0; index < words.length; index += 1) {
    const word = words[index] as string;
    if (word === '&' || word === '2>&1') continue;
    if (word === '>' || word === '>>') {
      index += 1;
      continue;
    }
    kept.push(word);
  }
  return kept;
}

/** The tfjs-diffusion arguments of a command line ('pnpm [-s] tfjs-diffusion ...' or 'node apps/cli/dist/main.js ...'), if it is one. */
function cliArguments(command: string): string[] | undefined {
  const all = shellWords(command).filter((word) => !/^[A-Z_]+=/.test(word));
  const pipe = all.indexOf('|');
  const words = pipe < 0 ? all : all.slice(0, pipe);
  const start = words.findIndex((word, index) => word === 'tfjs-diffusion' || (word === 'apps/cli/dist/main.js' && words[index - 1] === 'node'));
  if (start < 0 || command.includes('&&')) return undefined;
  return words.slice(start + 1);
}

async function runAsWritten(entry: DocumentedCommand, rule: Rule): Promise<void> {
  const created = outputFiles(entry.command).filter((file) => !existsSync(join(root, file)));
  try {
    const result = await promisify(execFile)('bash', ['-c', entry.command], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      timeout: (rule.timeoutSeconds ?? 60) * 1000,
      maxBuffer: 1 << 24,
    }).catch((error: { code: number; stdout: string; stderr: string }) => {
      throw new Error(`${entry.location}: '${entry.command}' exited ${error.code}\n${error.stdout}\n${error.stderr}`);
    });
    rule.check?.(result, entry.command);
  } finally {
    for (const file of created) rmSync(join(root, file), { force: true });
  }
}

/** What the CLI itself says is wrong with each documented tfjs-diffusion command (parsing only, nothing runs). */
async function cliProblems(commands: readonly DocumentedCommand[]): Promise<string[]> {
  // Imported here, not at the top: the runs of this file do not need every command's code.
  const { COMMANDS } = await import('../apps/cli/src/commands/index.js');
  const { checkOutputFiles } = await import('../apps/cli/src/output-files.js');
  const { parseCommandArguments } = await import('../apps/cli/src/parse-arguments.js');
  const problems: string[] = [];
  for (const entry of commands) {
    const args = cliArguments(entry.command);
    if (args === undefined || args.length === 0 || args.some((word) => word.startsWith('<') || word === '...')) continue;
    const [name, ...rest] = args;
    if (name === '--help' || name === '-h' || name === '--version' || rest.includes('--help')) continue;
    const command = COMMANDS.find((candidate) => candidate.name === name);
    if (!command) {
      problems.push(`${entry.location}: no command '${name}'`);
      continue;
    }
    try {
      const values = parseCommandArguments(command, rest);
      // Output names in folders are not checked: those folders are made by the commands before them (mkdir -p runs/...).
      checkOutputFiles(command, Object.fromEntries(Object.entries(values).filter(([, value]) => !String(value).includes('/'))));
    } catch (error) {
      problems.push(`${entry.location}: ${(error as Error).message}`);
    }
  }
  return problems;
}

const entries = documentedCommands(root);

describe('commands in README.md and docs/', () => {
  it('finds the commands (README.md, docs/*.md, docs/guides/*.md)', () => {
    expect(entries.length).toBeGreaterThan(30);
    expect(entries.some((entry) => entry.location.startsWith('README.md:') && entry.command.startsWith('bash scripts/setup.sh'))).toBe(true);
    expect(entries.some((entry) => entry.location.startsWith('docs/guides/'))).toBe(true);
  });

  it('has a rule for every command (classify a new one in tests/readme-commands.test.ts)', () => {
    const unclassified = entries.filter((entry) => ruleFor(entry.command) === undefined).map((entry) => `${entry.location}: ${entry.command}`);
    expect(unclassified).toEqual([]);
  });

  it('every tfjs-diffusion command names a command and options the CLI accepts', async () => {
    expect(await cliProblems(entries)).toEqual([]);
  });

  it('would catch a wrong command: a misspelt command or option, a repeated option, a bad output name', async () => {
    const markdown = [
      '```sh',
      'pnpm tfjs-diffusion smaple --out grid.png',
      'pnpm tfjs-diffusion sample --setps 20 \\',
      '  --out grid.png   # a comment',
      '$ pnpm -s tfjs-diffusion schedule --kind cosine --json --json | jq .kept',
      '```',
      '```ts',
      "console.log('pnpm tfjs-diffusion not a command')",
      '```',
      'Prose with `pnpm tfjs-diffusion sample --out grid.jpg` inline.',
    ].join('\n');
    const found = extractCommands(markdown, 'x.md');
    expect(found.map((entry) => `${entry.location} ${entry.command}`)).toEqual([
      'x.md:2 pnpm tfjs-diffusion smaple --out grid.png',
      'x.md:3 pnpm tfjs-diffusion sample --setps 20 --out grid.png',
      'x.md:5 pnpm -s tfjs-diffusion schedule --kind cosine --json --json | jq .kept',
      'x.md:10 pnpm tfjs-diffusion sample --out grid.jpg',
    ]);
    expect(await cliProblems(found)).toEqual([
      "x.md:2: no command 'smaple'",
      "x.md:3: Unknown option '--setps'; did you mean '--steps'?",
      "x.md:5: --json was given twice ('--json', then '--json'): give it once",
      'x.md:10: --out grid.jpg: this writes PNG only; give a name ending in .png',
    ]);
  });

  const seen = new Set<string>();
  for (const entry of entries) {
    const rule = ruleFor(entry.command);
    if (seen.has(entry.command)) continue; // the same command in several files runs once
    seen.add(entry.command);
    if (rule?.action === 'run') {
      it(`runs ${entry.command} (${entry.location}): ${rule.reason}`, () => runAsWritten(entry, rule), ((rule.timeoutSeconds ?? 60) + 10) * 1000);
    } else if (rule?.action === 'skip') {
      it.skip(`skips ${entry.command} (${entry.location}): ${rule.reason}`, () => undefined);
    }
  }
});
