// Node-only entry: `@tfjs-diffusion/benchmarks/node`, the benchmark itself (data-parallel worker
// threads), the PyTorch and onnxruntime-node peers (child processes) and the machine's FMA peak;
// re-exports the browser-safe API.
export * from './index.js';
export { benchRounds, type BenchReport, type BenchRoundsOptions } from './bench-rounds.js';
export { findPeers, type FindPeersOptions, type Peers } from './find-peers.js';
export { measureMachinePeak, type MachinePeak } from './machine-peak.js';
export { ortPeerMissing, parseOrtPeerOutput, runOrtPeer, type OrtPeerFigures } from './ort-peer.js';
export { PEER_ENVIRONMENT, ortFolder, peerFolder, repositoryRoot, torchPeerScript } from './peer-folder.js';
export { benchBatch, runBench, type BenchOptions, type BenchResult } from './run-bench.js';
export { PEER_PYTHON, parsePeerOutput, runTorchPeer, torchAvailable, type PeerFigures } from './torch-peer.js';
export { benchLargeImages, largeImagesInput, type LargeImagesReport } from './bench-large-images.js';
export {
  maxAbsDifference,
  readFloat32File,
  readLargeImagesInput,
  summariseOutput,
  writeFloat32File,
  writeLargeImagesInput,
  type LargeImagesInput,
  type OutputSummary,
} from './large-images-files.js';
export { parseForwardLine, type ForwardFigures } from './large-images-line.js';
export { ADM_PEER_SCRIPT, admPeerTimingArguments, type AdmPeerModel } from './large-images-processes.js';
export {
  GUIDED_DIFFUSION_ENVIRONMENT,
  LARGE_IMAGE_ARCHITECTURES,
  LARGE_IMAGES_BACKENDS,
  PEER_DEVICES,
  largeImagesSettings,
  parseBatchSizes,
  type BenchLargeImagesOptions,
  type LargeImagesArchitecture,
  type LargeImagesBackend,
  type LargeImagesSettings,
  type PeerDevice,
} from './large-images-settings.js';
export type { LargeImagesBatch, OutputDifference, PeerRatio, RunnerFigures } from './large-images-summary.js';
