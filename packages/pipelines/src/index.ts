// @tfjs-diffusion/pipelines: browser-safe entry (no node: imports). Node adds paths and PNG: './node'.
export { loadPipeline } from './load-pipeline.js';
export { pipelineFromBytes, type DiffusionPipeline, type LoadPipelineOptions, type ModelFileInput } from './build-pipeline.js';
export { generateImages, type GenerateOptions, type GenerateResult, type GenerateStepEvent } from './generate.js';
export { lowResolutionShape, lowResolutionTiles, lowResolutionValues, type LowResolutionInput } from './low-resolution.js';
export { readSource, isUrlString, type PipelineSource, type SourceBytes } from './read-source.js';
export { perImageNoiseSource, imageNoiseSeed } from './per-image-noise.js';
export { tileImages, type TileOptions } from './tile-images.js';
export { sampleDenoisingChain, chainSteps, type DenoisingChain } from './denoising-chain.js';
export { toImageData, toRgbaBytes } from './image-data.js';
export { WASM_PARAMETER_BYTES_LIMIT, checkWasmParameterBytes, wasmMemoryError } from './wasm-memory.js';
export { savePipeline, hostParameters, type SavePipelineOptions } from './save-pipeline.js';
