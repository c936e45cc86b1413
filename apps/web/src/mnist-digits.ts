import digitsUrl from 'virtual:mnist-digits';

export const MNIST_IMAGE_SIZE = 28;
export const MNIST_PIXELS = MNIST_IMAGE_SIZE * MNIST_IMAGE_SIZE;

/** The bundled MNIST subset: labels and 8-bit pixels, image after image. */
export interface MnistDigits {
  readonly count: number;
  readonly labels: Uint8Array;
  readonly pixels: Uint8Array;
}

/** Fetches the digits the build bundled (see build/mnist-digits-plugin.ts for the format). */
export async function loadMnistDigits(): Promise<MnistDigits> {
  const response = await fetch(digitsUrl);
  if (!response.ok) throw new Error(`mnist digits: HTTP ${response.status} from ${digitsUrl}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const count = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  if (bytes.length !== 4 + count + count * MNIST_PIXELS) {
    throw new Error(`mnist digits: expected ${4 + count + count * MNIST_PIXELS} bytes for ${count} digits, got ${bytes.length}`);
  }
  return { count, labels: bytes.subarray(4, 4 + count), pixels: bytes.subarray(4 + count) };
}
