#!/usr/bin/env node
/* global console, process, URL */
// Runs publint and @arethetypeswrong/cli on every publishable package (packages/* without
// "private": true), each on the tarball `pnpm pack` makes (workspace:^ rewritten to real versions,
// exactly what npm would receive). Needs the packages built (`pnpm build`).
//
//   node scripts/check-packages.mjs            all publishable packages
//   node scripts/check-packages.mjs core data  only these (folder names under packages/)
//
// Exits 1 with a listing of every failing package and why; 0 when all pass.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const binary = (name) => join(root, 'node_modules', '.bin', name);
// ESM-only packages: CommonJS `require` and node10 resolution are not supported on purpose.
const ATTW_PROFILE = 'esm-only';

function publishablePackages(only) {
  const folders = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const unknown = only.filter((name) => !folders.includes(name));
  if (unknown.length > 0) {
    console.error(`unknown package folder(s): ${unknown.join(', ')}; known: ${folders.join(', ')}`);
    process.exit(2);
  }
  return folders
    .filter((name) => only.length === 0 || only.includes(name))
    .map((name) => {
      const directory = join(root, 'packages', name);
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8'));
      return { name: manifest.name, folder: name, directory, manifest };
    })
    .filter(({ manifest }) => manifest.private !== true);
}

/** Runs a command; returns { ok, output } instead of throwing. */
function run(command, args, cwd) {
  try {
    const output = execFileSync(command, args, {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    });
    return { ok: true, output };
  } catch (error) {
    return { ok: false, output: `${error.stdout ?? ''}${error.stderr ?? ''}` || String(error) };
  }
}

/** The files a package's exports, main and types point at (build outputs must exist before packing). */
function declaredFiles(manifest) {
  const files = new Set();
  const walk = (value) => {
    if (typeof value === 'string') {
      if (value.startsWith('./') && !value.includes('*')) files.add(value);
    } else if (value && typeof value === 'object') {
      Object.values(value).forEach(walk);
    }
  };
  walk(manifest.exports);
  walk(manifest.main);
  walk(manifest.types);
  return [...files];
}

const packages = publishablePackages(process.argv.slice(2));
const packDirectory = mkdtempSync(join(tmpdir(), 'tfjs-diffusion-check-packages-'));
const failures = [];

try {
  for (const { name, folder, directory, manifest } of packages) {
    const problems = [];
    const missing = declaredFiles(manifest).filter((file) => !existsSync(join(directory, file)));
    if (missing.length > 0) {
      failures.push({ name, problems: [`missing built files (run pnpm build first): ${missing.join(', ')}`] });
      console.log(`✗ ${name}: not built`);
      continue;
    }

    // 1. the tarball npm would receive
    const packed = run('pnpm', ['pack', '--pack-destination', packDirectory], directory);
    const tarball = readdirSync(packDirectory).find(
      (file) => file.startsWith(`${name.replace('@', '').replace('/', '-')}-`) && file.endsWith('.tgz'),
    );
    if (!packed.ok || !tarball) {
      failures.push({ name, problems: [`pnpm pack failed:\n${packed.output}`] });
      console.log(`✗ ${name}: pnpm pack failed`);
      continue;
    }
    const tarballPath = join(packDirectory, tarball);

    // 2. publint on the tarball; warnings are failures, suggestions are not
    const lint = run(binary('publint'), ['run', tarballPath, '--strict', '--level', 'warning'], root);
    if (!lint.ok || /\b(Warnings?|Errors?):/.test(lint.output)) problems.push(`publint:\n${indent(lint.output)}`);

    // 3. arethetypeswrong on the same tarball
    const types = run(binary('attw'), [tarballPath, '--profile', ATTW_PROFILE, '--format', 'ascii', '--no-emoji'], root);
    if (!types.ok) problems.push(`attw (--profile ${ATTW_PROFILE}):\n${indent(types.output)}`);

    if (problems.length > 0) failures.push({ name, problems });
    console.log(`${problems.length === 0 ? '✓' : '✗'} ${name} (packages/${folder})`);
  }
} finally {
  rmSync(packDirectory, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\n${failures.length} of ${packages.length} package(s) failed:\n`);
  for (const { name, problems } of failures) {
    console.error(`== ${name}`);
    for (const problem of problems) console.error(problem);
    console.error('');
  }
  process.exit(1);
}
console.log(`\nall ${packages.length} publishable packages pass publint and attw (--profile ${ATTW_PROFILE})`);

function indent(text) {
  return text
    .trim()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}
