export { serializeSafetensors, parseSafetensors, MAX_HEADER_BYTES } from './safetensors.js';
export type {
  HostTensor,
  ParsedTensor,
  ParsedSafetensors,
  SerializeOptions,
  SafetensorsReadDtype,
  SafetensorsWriteDtype,
} from './safetensors.js';
export { float32ToFloat16Bits, float16BitsToFloat32, bfloat16BitsToFloat32 } from './float16.js';
export { checkpointMetadata, readConfigFromMetadata, validateAgainstShapes, CONFIG_METADATA_KEY } from './network-config.js';
