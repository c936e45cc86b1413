// Browser-safe entry: FLOP counting from kernel shapes, round summaries, profile tables.
// Running the benchmark and its peers (worker threads, child processes): `@tfjs-diffusion/benchmarks/node`.
export { countFlops, kernelFlops, torchPeerForwardFlops, type ProfiledKernel } from './flop-count.js';
export { formatProfile, profileRows, type KernelTimes, type ProfileRow } from './profile-table.js';
export { median, summariseRounds, type RoundFigures, type RoundSummary } from './round-summary.js';
