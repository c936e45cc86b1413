import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelFile } from '@tfjs-diffusion/checkpoints';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { temporaryDirectory } from '../test-utils/tiny-data.js';

async function run(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), interactive: false });
  return { code, stdout, stderr };
}

const fixtures = new URL('../../../../packages/converters/fixtures/', import.meta.url).pathname;

describe('tfjs-diffusion convert', () => {
  it('converts a .pt checkpoint from the README flag strings into a model file', async () => {
    const out = join(temporaryDirectory(), 'lsun-style.safetensors');
    const result = await run(
      'convert',
      '--from',
      'improved-diffusion',
      '--model-flags',
      '--image_size 32 --num_channels 4 --num_res_blocks 1 --num_heads 1 --learn_sigma True --use_scale_shift_norm False --attention_resolutions 16 --group_norm_groups 4',
      '--diffusion-flags',
      '--diffusion_steps 1000 --noise_schedule linear --rescale_learned_sigmas False --rescale_timesteps False',
      '--input',
      join(fixtures, 'improved-lsun-style.pt'),
      '--out',
      out,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/wrote .*lsun-style\.safetensors: improved-diffusion denoiser, 25,142 parameters, F16/);
    const file = parseModelFile(new Uint8Array(readFileSync(out)), out);
    expect(file.metadata).toMatchObject({
      prediction: 'epsilon',
      variance: 'learned-range',
      schedule: { kind: 'linear', timesteps: 1000 },
      data: { shape: [32, 32, 3] },
    });
    expect(file.metadata.network).toMatchObject({ type: 'unet', useScaleShiftNorm: false, timestepScale: 1 });
  });

  it('converts the same weights from a .safetensors file (read range by range) and names an unreadable input', async () => {
    const manifest = JSON.parse(readFileSync(join(fixtures, 'fixtures.json'), 'utf8')) as {
      cases: Record<string, { classifierFlags: string; extraFlags: string }>;
    };
    const adaptive = manifest.cases['classifier-adaptive'] as { classifierFlags: string; extraFlags: string };
    const flags = ['convert', '--from', 'guided-diffusion', '--classifier-flags', `${adaptive.classifierFlags} ${adaptive.extraFlags}`];
    const directory = temporaryDirectory();
    const fromPt = await run(...flags, '--input', join(fixtures, 'classifier-adaptive.pt'), '--out', join(directory, 'a.safetensors'));
    const fromSafetensors = await run(
      ...flags,
      '--input',
      join(fixtures, 'classifier-adaptive.safetensors'),
      '--out',
      join(directory, 'b.safetensors'),
    );
    expect(fromPt.code, fromPt.stderr).toBe(0);
    expect(fromSafetensors.code, fromSafetensors.stderr).toBe(0);
    expect(readFileSync(join(directory, 'b.safetensors'))).toEqual(readFileSync(join(directory, 'a.safetensors')));
    const missing = await run(...flags, '--input', join(directory, 'absent.pt'), '--out', join(directory, 'c.safetensors'));
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/cannot read --input .*absent\.pt: ENOENT/);
  });

  it('plans a preset without weights, and names unknown flags and presets', async () => {
    const check = await run('convert', '--preset', 'guided-64x64', '--check');
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ kind: 'denoiser', parameters: 295_904_454, schedule: { kind: 'cosine', timesteps: 1000 } });
    expect(JSON.parse(check.stdout).flags).toMatchObject({
      from: 'guided-diffusion',
      modelFlags: expect.stringContaining('--num_channels 192 --num_head_channels 64'),
    });
    const unknown = await run('convert', '--from', 'guided-diffusion', '--model-flags', '--image_size 64 --num_chanels 128', '--check');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown guided-diffusion model flag --num_chanels/);
    const preset = await run('convert', '--preset', 'guided-1024', '--check');
    expect(preset.stderr).toMatch(/unknown preset "guided-1024"/);
    const list = await run('convert', '--list-presets');
    expect(list.stdout.split('\n').filter(Boolean)).toHaveLength(23);
  });
});
