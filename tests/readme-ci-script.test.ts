/**
 * .ci/run and scripts/setup.sh with stand-ins for pnpm, npm, apt-get and dpkg-query on PATH: the
 * last line of .ci/run is 'N passed, N failed', counting failed tests plus every other failing
 * step, and neither script calls apt-get when every system package is installed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const isRoot = process.getuid?.() === 0;

/** A folder of stand-in commands; FAIL_STEPS names the pnpm steps that fail, TESTS_SUMMARY is vitest's summary line. */
function standIns(missingPackages: readonly string[] = []): { bin: string; aptLog: string } {
  const bin = mkdtempSync(join(tmpdir(), 'tfjs-diffusion-ci-'));
  const aptLog = join(bin, 'apt-get.log');
  const write = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/usr/bin/env bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  write(
    'pnpm',
    [
      'step="$1"; [ "$1" = exec ] && step="$3"; [ "$1" = run ] && step="$2"',
      'echo "$@" >> "$(dirname "$0")/pnpm.log"',
      'if [ "$step" = test ]; then echo " Test Files  3 passed (3)"; echo "      Tests  ${TESTS_SUMMARY}"; exit "${TEST_STATUS:-0}"; fi',
      'for failing in ${FAIL_STEPS:-}; do [ "$failing" = "$step" ] && { echo "$step failed"; exit 1; }; done',
      'exit 0',
    ].join('\n'),
  );
  write('npm', 'exit 0');
  write('apt-get', `echo "$@" >> ${JSON.stringify(aptLog)}; exit 0`);
  write('dpkg-query', `for missing in ${missingPackages.join(' ')}; do [ "$missing" = "\${@: -1}" ] && exit 1; done; printf 'install ok installed'`);
  return { bin, aptLog };
}

function runCi(environment: Record<string, string>, missingPackages: readonly string[] = []) {
  const { bin, aptLog } = standIns(missingPackages);
  const result = spawnSync('bash', [join(root, '.ci/run')], {
    cwd: root,
    env: { ...process.env, PATH: `${bin}:${process.env['PATH']}`, ...environment },
    encoding: 'utf8',
  });
  const lines = result.stdout.trimEnd().split('\n');
  return {
    status: result.status,
    last: lines[lines.length - 1],
    stdout: result.stdout,
    aptCalls: existsSync(aptLog) ? readFileSync(aptLog, 'utf8') : '',
  };
}

describe('.ci/run', () => {
  it('ends with the test counts when every step passes', () => {
    const run = runCi({ TESTS_SUMMARY: '812 passed (812)' });
    expect(run.last).toBe('812 passed, 0 failed');
    expect(run.status).toBe(0);
    for (const step of ['install', 'build', 'typecheck', 'lint', 'docs:api', 'release-dry-run']) expect(run.stdout).toContain(`=== ${step}: ok`);
    expect(run.aptCalls).toBe('');
  });

  it('counts each failing step besides the failed tests', () => {
    const typecheck = runCi({ TESTS_SUMMARY: '2 failed | 10 passed (12)', TEST_STATUS: '1', FAIL_STEPS: 'typecheck' });
    expect(typecheck.last).toBe('10 passed, 3 failed');
    expect(typecheck.status).toBe(1);
    const lintAndDocs = runCi({ TESTS_SUMMARY: '12 passed (12)', FAIL_STEPS: 'lint docs:api' });
    expect(lintAndDocs.last).toBe('12 passed, 2 failed');
    expect(lintAndDocs.stdout).toContain('failed steps: lint docs:api');
    expect(lintAndDocs.status).toBe(1);
    const crashed = runCi({ TESTS_SUMMARY: '', TEST_STATUS: '1' });
    expect(crashed.last).toBe('0 passed, 1 failed');
  });

  it.runIf(isRoot)('installs only the missing system packages, and only then', () => {
    const run = runCi({ TESTS_SUMMARY: '1 passed (1)' }, ['redis-server', 'jq']);
    expect(run.aptCalls).toMatch(/^update -qq\ninstall -y -qq redis-server jq\n$/);
  });
});

describe('scripts/setup.sh', () => {
  it('does not call apt-get on a machine that has everything, run after run', () => {
    const { bin, aptLog } = standIns();
    for (let run = 0; run < 3; run += 1)
      execFileSync('bash', [join(root, 'scripts/setup.sh')], {
        cwd: root,
        env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` },
        stdio: 'pipe',
      });
    expect(existsSync(aptLog)).toBe(false);
    expect(readFileSync(join(bin, 'pnpm.log'), 'utf8')).toBe('install --frozen-lockfile\nexec turbo run build --output-logs=errors-only\n'.repeat(3));
  });

  it.runIf(isRoot)('installs redis-server (with gcc and OpenBLAS) when it is missing', () => {
    const { bin, aptLog } = standIns(['redis-server']);
    execFileSync('bash', [join(root, 'scripts/setup.sh')], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` },
      stdio: 'pipe',
    });
    expect(readFileSync(aptLog, 'utf8')).toBe('update -qq\ninstall -y -qq redis-server\n');
  });
});
