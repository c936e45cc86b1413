import { readTorchWeights } from '@tfjs-diffusion/checkpoints';
import { fileByteSource, writeFileStreamAtomically } from '@tfjs-diffusion/checkpoints/node';
import {
  ADM_SOURCES,
  PUBLISHED_MODELS,
  convertAdmCheckpointTo,
  countTorchParameters,
  planAdmModel,
  publishedModelFlags,
  type AdmFlagStrings,
  type AdmSource,
} from '@tfjs-diffusion/converters';
import { UsageError } from '../cli-error.js';
import type { Command } from '../command.js';
import { choiceOption, stringOption } from '../options.js';

export const convertCommand: Command = {
  name: 'convert',
  summary: 'convert a guided-diffusion / improved-diffusion checkpoint (.pt or .safetensors) into a model file',
  usage: [
    'usage: tfjs-diffusion convert (--preset NAME | --from SOURCE --model-flags "..." [--diffusion-flags "..."] | --from guided-diffusion --classifier-flags "...")',
    '                              --input CHECKPOINT.pt|.safetensors --out MODEL.safetensors [--dtype F16|F32]',
    '       tfjs-diffusion convert --list-presets',
    '',
    `  --from SOURCE          ${ADM_SOURCES.join(' | ')}`,
    '  --model-flags "..."    MODEL_FLAGS exactly as in the README, e.g. "--image_size 64 --num_channels 128 ..."',
    '  --diffusion-flags "..." DIFFUSION_FLAGS of the README (guided-diffusion puts them in MODEL_FLAGS)',
    '  --classifier-flags "..." the classifier flags (CLASSIFIER_FLAGS, or --image_size N --classifier_depth D ...)',
    '  --super-resolution     the checkpoint is an upsampler (implied by --large_size / --small_size)',
    '  --preset NAME          the flags of a published checkpoint (--list-presets; docs/published-models.md)',
    '  --input FILE           the checkpoint: torch.save of the state_dict (.pt) or the same tensors as .safetensors',
    '  --out FILE             the model file to write',
    '  --dtype F16|F32        storage of the output (default: F16 when the checkpoint is all float16, else F32)',
    '  --check                plan only: print the flags, network and parameter count, read no weights',
  ].join('\n'),
  options: {
    from: { type: 'string' },
    'model-flags': { type: 'string' },
    'diffusion-flags': { type: 'string' },
    'classifier-flags': { type: 'string' },
    'super-resolution': { type: 'boolean' },
    preset: { type: 'string' },
    input: { type: 'string' },
    out: { type: 'string' },
    dtype: { type: 'string' },
    check: { type: 'boolean' },
    'list-presets': { type: 'boolean' },
  },
  async run(values, io) {
    if (values['list-presets']) {
      for (const [name, model] of Object.entries(PUBLISHED_MODELS)) io.stdout(`${name}\t${model.kind}\t${model.url}\n`);
      return;
    }
    const preset = stringOption(values, 'preset');
    const flagOptions = ['from', 'model-flags', 'diffusion-flags', 'classifier-flags', 'super-resolution'].filter(
      (name) => values[name] !== undefined,
    );
    let strings: AdmFlagStrings;
    if (preset !== undefined) {
      if (flagOptions.length > 0) throw new UsageError(`--preset gives the flags itself: drop --${flagOptions.join(', --')}`);
      strings = publishedModelFlags(preset);
    } else {
      const from = stringOption(values, 'from');
      if (from === undefined) throw new UsageError('give --preset NAME, or --from guided-diffusion|improved-diffusion with the README flags');
      strings = {
        from: choiceOption(values, 'from', ADM_SOURCES, from as AdmSource),
        modelFlags: stringOption(values, 'model-flags'),
        diffusionFlags: stringOption(values, 'diffusion-flags'),
        classifierFlags: stringOption(values, 'classifier-flags'),
        superResolution: values['super-resolution'] === true,
      };
    }
    if (values['check']) {
      const plan = planAdmModel(strings);
      io.stdout(
        `${JSON.stringify({ kind: plan.kind, parameters: countTorchParameters(plan), flags: strings, network: plan.network, schedule: plan.metadata.schedule })}\n`,
      );
      return;
    }
    const input = stringOption(values, 'input');
    const out = stringOption(values, 'out');
    if (input === undefined || out === undefined)
      throw new UsageError('give --input CHECKPOINT and --out MODEL.safetensors (or --check to plan only)');
    const dtype = values['dtype'] === undefined ? undefined : choiceOption(values, 'dtype', ['F16', 'F32'] as const, 'F16');
    const started = performance.now();
    // .pt or .safetensors (told apart by their first bytes): read range by range, never the whole file
    let source: ReturnType<typeof fileByteSource>;
    try {
      source = fileByteSource(input);
    } catch (error) {
      throw new UsageError(`cannot read --input ${input}: ${(error as Error).message}`);
    }
    try {
      const weights = readTorchWeights(source, input);
      let lastReport = 0;
      // streamed: the header, then each tensor as it is converted (atomically: the file appears when complete)
      const converted = writeFileStreamAtomically(out, (write) =>
        convertAdmCheckpointTo(
          {
            ...strings,
            weights,
            ...(dtype ? { dtype } : {}),
            extra: { command: `tfjs-diffusion convert ${preset !== undefined ? `--preset ${preset}` : `--from ${strings.from}`}` },
            onTensor(name, index, total) {
              if (io.interactive && performance.now() - lastReport > 500) {
                lastReport = performance.now();
                io.stderr(`\rconvert: ${index}/${total} tensors (${name})\u001b[K`);
              }
            },
          },
          write,
        ),
      );
      if (io.interactive) io.stderr('\n');
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      io.stderr(
        `wrote ${out}: ${converted.plan.source} ${converted.plan.kind}, ${converted.parameterCount.toLocaleString('en-US')} parameters, ${converted.dtype}, ${(converted.byteLength / 2 ** 20).toFixed(1)} MiB in ${seconds} s\n`,
      );
    } finally {
      source.close();
    }
  },
};
