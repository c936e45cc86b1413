import type { DiffusionModel } from './diffusion-model.js';

/**
 * Guidance wraps a model and returns a model (k-diffusion's make_cond_model_fn), so every sampler
 * works with every kind of guidance. Scale convention, used everywhere in tfjs-diffusion:
 * w = 0 means no guidance. Classifier-free: eps~ = (1 + w) eps(x, c) - w eps(x, null)
 * (Ho & Salimans 2022, eq. 6); classifier: the gradient s * grad log p(y | x_t) with s = w
 * (Dhariwal & Nichol 2021, Algorithms 1 and 2).
 */
export type Guidance = (model: DiffusionModel) => DiffusionModel;
