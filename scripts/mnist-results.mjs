#!/usr/bin/env node
// Re-runs every MNIST result in docs/results.md with the project's own CLI, then rewrites that page,
// docs/results.json and the pictures in docs/images/results/. Run from the repository root after
// `pnpm build`:  node scripts/mnist-results.mjs [--n 500] [--checkpoint FILE] [--quick] [--only cfg,ddim,...]
//
// Sweeps (the seeds' trends): classifier-free guidance scale w in {0, 0.5, 1, 2, 4} (Ho & Salimans
// 2022: fidelity up, diversity down); DDIM eta in {0, 0.5, 1} x steps in {10, 20, 50, 100} (Song et al.
// 2021, Table 1: eta = 0 ahead at few steps); classifier guidance scale (Dhariwal & Nichol 2021,
// Algorithms 1 and 2, with DDIM and DDPM, on the model's unconditional branch and on the conditional
// model, through scripts/classifier-guidance-sweep.mjs); NLL in bits/dim (Nichol & Dhariwal 2021);
// sample grids and the denoising chain.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '500' },
    checkpoint: { type: 'string' },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    out: { type: 'string', default: 'docs' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const n = values.quick ? 20 : Number(values.n);
const sections = values.only ? values.only.split(',') : ['grids', 'cfg', 'ddim', 'classifier', 'nll'];
const docs = values.out;
const images = `${docs}/images/results`;
mkdirSync(images, { recursive: true });
const checkpointArgs = values.checkpoint ? ['--checkpoint', values.checkpoint] : [];
const common = [...checkpointArgs, '--backend', values.backend, '--seed', '0'];

function cli(args) {
  const started = Date.now();
  process.stderr.write(`$ tfjs-diffusion ${args.join(' ')}\n`);
  const stdout = execFileSync(process.execPath, ['apps/cli/dist/main.js', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 1 << 26,
  });
  const result = JSON.parse(stdout.trim().split('\n').at(-1));
  process.stderr.write(`  ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return { ...result, command: `pnpm tfjs-diffusion ${args.join(' ')}` };
}

const results = {
  generated: new Date().toISOString(),
  n,
  machine: `${cpus()[0]?.model ?? 'cpu'} x ${availableParallelism()}`,
  checkpoint: values.checkpoint ?? 'models/mnist-unet.safetensors',
};
const cfgScales = [0, 0.5, 1, 2, 4];
const ddimEtas = [0, 0.5, 1];
const ddimSteps = values.quick ? [10, 20] : [10, 20, 50, 100];
const classifierScales = [0, 3, 10, 30];
const sweepSteps = values.quick ? 5 : 25;

if (sections.includes('grids')) {
  results.grids = [];
  for (const scale of [0, 2]) {
    const file = `${images}/cfg-w${scale}.png`;
    results.grids.push(
      cli([
        'sample',
        ...common,
        '--guidance',
        'cfg',
        '--scale',
        String(scale),
        '--sampler',
        'ddim',
        '--steps',
        '50',
        '--cell-scale',
        '2',
        '--out',
        file,
        '--json',
      ]),
    );
  }
  results.chain = cli([
    'sample',
    ...common,
    '--per-class',
    '1',
    '--guidance',
    'cfg',
    '--scale',
    '2',
    '--sampler',
    'ddpm',
    '--steps',
    '50',
    '--cell-scale',
    '2',
    '--out',
    `${images}/chain-final.png`,
    '--chain',
    `${images}/chain.png`,
    '--chain-columns',
    '11',
    '--json',
  ]);
}
if (sections.includes('cfg')) {
  results.cfg = cfgScales.map((scale) =>
    cli(['eval', ...common, '--n', String(n), '--guidance', 'cfg', '--scale', String(scale), '--sampler', 'ddim', '--steps', String(sweepSteps)]),
  );
}
if (sections.includes('ddim')) {
  results.ddim = [];
  for (const steps of ddimSteps)
    for (const eta of ddimEtas)
      results.ddim.push(cli(['eval', ...common, '--n', String(n), '--sampler', 'ddim', '--eta', String(eta), '--steps', String(steps)]));
}
/** Runs scripts/classifier-guidance-sweep.mjs (from the sources, through vite-node); one JSON object per line. */
function classifierSweep(args) {
  const started = Date.now();
  const command = ['node_modules/.pnpm/node_modules/vite-node/vite-node.mjs', 'scripts/classifier-guidance-sweep.mjs', '--', ...args];
  process.stderr.write(`$ node ${command.join(' ')}\n`);
  const stdout = execFileSync(process.execPath, command, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26 });
  process.stderr.write(`  ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  return stdout
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => ({ ...JSON.parse(line), command: `node ${command.join(' ')}` }));
}
if (sections.includes('classifier')) {
  const classifierSteps = values.quick ? 5 : 20;
  const sweep = [
    '--samplers',
    'ddim,ddpm',
    '--scales',
    classifierScales.join(','),
    '--n',
    String(Math.min(n, 100)),
    '--steps',
    String(classifierSteps),
    '--backend',
    values.backend,
  ];
  results.classifier = [...classifierSweep([...sweep, '--unconditional', '--grid', `${images}/classifier-null`]), ...classifierSweep(sweep)];
}
if (sections.includes('nll')) {
  results.nll = [cli(['nll', ...common, '--n', values.quick ? '8' : '200', '--respace', values.quick ? '10' : '100'])];
}

const format = (value, digits = 3) => (typeof value === 'number' ? value.toFixed(digits) : '-');
const row = (cells) => `| ${cells.join(' | ')} |`;
const table = (header, rows) => [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
const evalColumns = (result) => [
  format(result.fid, 1),
  format(result.classAccuracy),
  format(result.inceptionScore, 2),
  format(result.diversity, 2),
  format(result.samplingSeconds, 0),
];
const evalHeader = ['FID', 'class accuracy', 'Inception-style score', 'diversity', 'sampling s'];
const real = (results.cfg ?? results.ddim ?? results.classifier ?? [])[0]?.real;

const page = [
  '# MNIST results',
  '',
  `Generated by \`node scripts/mnist-results.mjs --n ${n}\` on ${results.generated.slice(0, 10)} (${results.machine}), from \`${results.checkpoint}\`.`,
  'Every figure comes from the CLI commands listed in `docs/results.json`; re-run the script to reproduce them.',
  '',
  `Metrics (\`tfjs-diffusion eval\`, n = ${n} samples, classes 0..9 in turn, seed 0): FID between Gaussian fits of the`,
  "evaluation classifier's 128-dimensional penultimate features of the samples and of n real training digits; class",
  'accuracy: share classified as the requested digit; Inception-style score exp(E KL(p(y|x) || p(y))); diversity: mean',
  'feature distance between two samples of the same class. FID at this n carries a large small-sample bias: the real',
  `floor (n held-out digits against n training digits) is ${format(real?.fidTestVsTrain, 1)}, real digits score accuracy ${format(real?.classAccuracy)},`,
  `score ${format(real?.inceptionScore, 2)}, diversity ${format(real?.diversity, 2)}.`,
  '',
];
if (results.grids) {
  page.push('## Samples', '', 'DDIM, 50 steps, one row per digit (`sample --guidance cfg --scale W --sampler ddim --steps 50`):', '');
  for (const grid of results.grids)
    page.push(
      `w = ${grid.scale} (${format(grid.seconds, 0)} s for ${grid.classes.length * grid.perClass} digits):`,
      '',
      `![w = ${grid.scale}](images/results/${grid.out.split('/').at(-1)})`,
      '',
    );
  page.push(
    'Denoising chain (DDPM 50 steps, w = 2): per digit, a row of x_t and a row of the predicted x0 at',
    `timesteps ${results.chain.chain.timesteps.join(', ')}:`,
    '',
    '![chain](images/results/chain.png)',
    '',
  );
}
if (results.cfg) {
  page.push(
    '## Classifier-free guidance scale',
    '',
    `DDIM ${sweepSteps} steps, eta 0; (1 + w) eps(x, y) - w eps(x, null), w = 0 is the plain conditional model.`,
    '',
  );
  page.push(
    table(
      ['w', ...evalHeader],
      results.cfg.map((result) => [String(result.scale), ...evalColumns(result)]),
    ),
    '',
  );
}
if (results.ddim) {
  page.push(
    '## DDIM: eta and steps',
    '',
    'No guidance (the conditional model), respaced linspace:S; eta = 0 is deterministic DDIM, eta = 1 the DDPM-like sampler.',
    '',
  );
  page.push(
    table(
      ['S', 'eta', ...evalHeader],
      results.ddim.map((result) => [String(result.steps), String(result.eta), ...evalColumns(result)]),
    ),
    '',
  );
}
if (results.classifier) {
  page.push('## Classifier guidance scale', '');
  page.push(
    `The noise-aware classifier models/mnist-classifier.safetensors steers; the evaluation classifier reads the samples. DDIM uses ADM Algorithm 2 (eps shift) with the guided x0 clipped to [-1, 1]; DDPM uses Algorithm 1 (mean shift Sigma g). ${results.classifier[0]?.steps} steps, n = ${results.classifier[0]?.n}. Model branch "null class": the model is fed its null class and only the classifier steers.`,
    '',
  );
  page.push(
    table(
      ['branch', 'sampler', 's', 'class accuracy', 'confidence', 'diversity', 'saturated pixels', 'sampling s'],
      results.classifier.map((result) => [
        result.unconditional ? 'null class' : 'conditional',
        result.sampler,
        String(result.scale),
        format(result.accuracy),
        format(result.confidence),
        format(result.diversity, 2),
        format(result.saturated),
        format(result.seconds, 0),
      ]),
    ),
    '',
  );
}
if (results.nll) {
  const nll = results.nll[0];
  page.push('## Likelihood', '', `\`${nll.command}\`:`, '', '```json', JSON.stringify(nll, null, 2), '```', '');
}
writeFileSync(`${docs}/results.md`, `${page.join('\n')}\n`);
writeFileSync(`${docs}/results.json`, `${JSON.stringify(results, null, 2)}\n`);
process.stderr.write(`wrote ${docs}/results.md and ${docs}/results.json\n`);
