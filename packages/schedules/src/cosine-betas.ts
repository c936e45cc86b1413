/** Cosine-schedule betas of Improved DDPM (Nichol & Dhariwal 2021, eq. 17), clipped at `maxBeta`. */
export function cosineBetas(trainingTimesteps: number, offset: number, maxBeta: number): Float64Array {
  // 1. f(u) = cos((u + s) / (1 + s) * pi/2)^2, u = t / T
  const f = (u: number): number => Math.cos(((u + offset) / (1 + offset)) * (Math.PI / 2)) ** 2;
  const betas = new Float64Array(trainingTimesteps);
  for (let t = 0; t < trainingTimesteps; t += 1) {
    // 2. beta_t = min(1 - alphaBar(t+1) / alphaBar(t), maxBeta), with alphaBar(t) = f(t/T) / f(0)
    betas[t] = Math.min(1 - f((t + 1) / trainingTimesteps) / f(t / trainingTimesteps), maxBeta);
  }
  return betas;
}
