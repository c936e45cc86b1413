/** The part of a WebGPU adapter's info (GPUAdapterInfo) that names it. */
export interface WebGpuAdapterInfo {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  /** Where the browser puts it since Chrome 127 (GPUAdapterInfo.isFallbackAdapter). */
  readonly isFallbackAdapter?: boolean;
}

/** The part of a WebGPU adapter (GPUAdapter) read here. */
export interface WebGpuAdapter {
  readonly info?: WebGpuAdapterInfo;
  /** Older browsers: on the adapter itself (GPUAdapter.isFallbackAdapter). */
  readonly isFallbackAdapter?: boolean;
  /** Older browsers: the info behind a call (GPUAdapter.requestAdapterInfo). */
  requestAdapterInfo?(): Promise<WebGpuAdapterInfo>;
}

/** The part of `navigator.gpu` (WebGPU's GPU object) used here. */
export interface WebGpuEntry {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<WebGpuAdapter | null>;
}

/** What a WebGPU adapter is, for people and for `auto`. */
export interface WebGpuAdapterSummary {
  /** E.g. "nvidia ampere (NVIDIA A100)" or "google swiftshader". */
  readonly name: string;
  /** True for a software (CPU-emulated) adapter: SwiftShader, lavapipe/llvmpipe, WARP, or any fallback adapter. */
  readonly software: boolean;
  /** Why it counts as software ('' when it does not). */
  readonly softwareBecause: string;
}

/** Software rasterisers that pose as GPUs: SwiftShader (Chromium, Dawn), lavapipe/llvmpipe (Mesa), WARP (Direct3D). */
const SOFTWARE_NAMES = /swiftshader|lavapipe|llvmpipe|softpipe|microsoft basic render|\bwarp\b/i;

/** Reads an adapter's info, from `adapter.info` or (older browsers) `requestAdapterInfo()`. */
export async function readAdapterInfo(adapter: WebGpuAdapter): Promise<WebGpuAdapterInfo> {
  if (adapter.info !== undefined) return adapter.info;
  if (typeof adapter.requestAdapterInfo === 'function') {
    try {
      return await adapter.requestAdapterInfo();
    } catch {
      return {};
    }
  }
  return {};
}

/**
 * Names a WebGPU adapter and tells whether it is a software one: the WebGPU spec's
 * `isFallbackAdapter` flag, or a vendor/architecture/device/description naming a software
 * rasteriser (SwiftShader reports vendor 'google', architecture 'swiftshader').
 */
export function summariseAdapter(adapter: WebGpuAdapter, info: WebGpuAdapterInfo = adapter.info ?? {}): WebGpuAdapterSummary {
  const parts = [info.vendor, info.architecture].filter((part): part is string => part !== undefined && part !== '');
  const detail = [info.device, info.description].filter((part): part is string => part !== undefined && part !== '').join(', ');
  const name = `${parts.join(' ') || 'unknown adapter'}${detail === '' ? '' : ` (${detail})`}`;
  const fallback = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  const named = SOFTWARE_NAMES.exec(`${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`);
  const reasons = [...(fallback ? ['isFallbackAdapter is set'] : []), ...(named ? [`its info names ${named[0]}, a CPU emulation`] : [])];
  return { name, software: reasons.length > 0, softwareBecause: reasons.join(' and ') };
}

/** Software WebGL renderers, as WEBGL_debug_renderer_info names them (e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...))"). */
export function isSoftwareRenderer(renderer: string): boolean {
  return SOFTWARE_NAMES.test(renderer) || /\bsoftware\b/i.test(renderer);
}
