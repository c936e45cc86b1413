// The OpenBLAS shared libraries the native kernels try to open, in order (src/native-kernels.ts
// keeps the same list; $TFJS_DIFFUSION_OPENBLAS, when set, is tried first).
export const OPENBLAS_LIBRARIES = [
  ...(process.env.TFJS_DIFFUSION_OPENBLAS ? [process.env.TFJS_DIFFUSION_OPENBLAS] : []),
  'libopenblas.so.0',
  'libopenblas.so',
  'libopenblasp.so.0',
  'libopenblas.dylib',
  '/opt/homebrew/opt/openblas/lib/libopenblas.dylib',
  '/usr/local/opt/openblas/lib/libopenblas.dylib',
];
