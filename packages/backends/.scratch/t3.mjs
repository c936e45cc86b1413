import os from 'node:os';
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
let gpu = create([]);
let adapter = await gpu.requestAdapter();
console.log('adapter1', adapter && adapter.info);
process.env.VK_ICD_FILENAMES = '/usr/lib/chromium/vk_swiftshader_icd.json';
const c = os.constants.dlopen;
try { process.dlopen({ exports: {} }, '/usr/lib/chromium/libvulkan.so.1', c.RTLD_NOW | c.RTLD_GLOBAL | 0x1000); } catch (e) { console.log('dlopen error (expected):', e.message); }
gpu = create([]);
adapter = await gpu.requestAdapter();
console.log('adapter2', adapter && adapter.info, adapter && [adapter.info.vendor, adapter.info.architecture, adapter.info.device, adapter.info.description]);
