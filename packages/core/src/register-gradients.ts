/**
 * Registers every gradient of tfjs-core (side effect only). tfjs-core ships its gradients as ES
 * modules with extension-less imports, which plain Node cannot load, so the build replaces this
 * file by a bundle of them (see build-gradients.mjs). Kernels and gradients live in tfjs's global
 * registries, so the bundled copy registers into the same engine as the app's tfjs-core.
 * Import it as '@tfjs-diffusion/core/register-gradients' from any module that differentiates.
 */
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
