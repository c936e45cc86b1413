/** Linear warm-up to the base rate over `warmupSteps`, then constant (as in ADM's training runs). */
export function warmupLearningRate(baseRate: number, step: number, warmupSteps: number): number {
  if (warmupSteps <= 0) return baseRate;
  return baseRate * Math.min(1, (step + 1) / warmupSteps);
}
