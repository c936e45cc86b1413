export {
  serializeSafetensors,
  parseSafetensors,
  parseSafetensorsHeader,
  decodeSafetensorsTensor,
  jsonNestingDepth,
  MAX_HEADER_BYTES,
  MAX_HEADER_NESTING,
} from './safetensors.js';
export type {
  HostTensor,
  ParsedTensor,
  ParsedSafetensors,
  SerializeOptions,
  SafetensorsReadDtype,
  SafetensorsWriteDtype,
  SafetensorsEntry,
  SafetensorsHeader,
} from './safetensors.js';
export { float32ToFloat16Bits, float16BitsToFloat32, bfloat16BitsToFloat32 } from './float16.js';
export { checkpointMetadata, readConfigFromMetadata, validateAgainstShapes, CONFIG_METADATA_KEY } from './network-config.js';
export { MODEL_FORMAT_VERSION, MODEL_FILE_LIMITS, MODEL_METADATA_KEYS, readModelMetadata, modelMetadataEntries } from './model-metadata.js';
export type {
  ModelFileMetadata,
  ModelFileMetadataInput,
  ScheduleMetadata,
  ConditioningMetadata,
  DataMetadata,
  TrainingMetadata,
} from './model-metadata.js';
export {
  parseModelFile,
  writeModelFile,
  readModelFileEntries,
  decodeModelFileTensor,
  modelFileLayout,
  encodeModelFileTensor,
  EMA_TENSOR_PREFIX,
  TRAINING_TENSOR_PREFIX,
} from './model-file.js';
export type { ParsedModelFile, ParseModelFileOptions, ModelFileParts, ModelFileEntries, ModelFileLayoutParts } from './model-file.js';
export { parseSafetensorsHeaderOf, decodeSafetensorsTensorOf } from './safetensors-source.js';
export { safetensorsLayout, encodeSafetensorsData, type SafetensorsLayout, type SafetensorsLayoutEntry } from './safetensors-layout.js';
export { memoryByteSource, type ByteSource } from './torch-byte-source.js';
export { readZipEntries, type ZipEntry } from './torch-zip.js';
export { unpickleTorch, TORCH_STORAGE_DTYPES } from './torch-pickle.js';
export type { PickleValue, TorchStorageDtype, TorchStorageReference, TorchTensorReference } from './torch-pickle.js';
export { readTorchCheckpoint, readTorchWeights, lazySafetensors, type LazyTensor } from './torch-checkpoint.js';
