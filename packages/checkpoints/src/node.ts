// Node-only entry: `@tfjs-diffusion/checkpoints/node` (file system access); re-exports the pure API.
export * from './index.js';
export {
  saveCheckpointFile,
  loadCheckpointFile,
  listCheckpoints,
  latestCheckpoint,
  pruneCheckpoints,
  removeStaleTemporaryFiles,
  checkpointFileName,
  writeFileAtomically,
} from './checkpoint-files.js';
export { loadModelFile, saveModelFile, readModelFileBytes } from './model-file-node.js';
export type { SaveCheckpointOptions, CheckpointEntry } from './checkpoint-files.js';
export { fileByteSource } from './torch-file-source.js';
export { writeFileStreamAtomically } from './write-file-stream.js';
