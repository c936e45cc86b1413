import { create, globals } from 'webgpu';
const setEnvFirst = process.argv[2] === 'env';
if (setEnvFirst) process.env.VK_ICD_FILENAMES = '/usr/lib/chromium/vk_swiftshader_icd.json';
Object.assign(globalThis, globals);
let gpu = create([]);
let adapter = await gpu.requestAdapter();
console.log('adapter1', adapter && adapter.info);
if (!adapter) {
  process.env.VK_ICD_FILENAMES = '/usr/lib/chromium/vk_swiftshader_icd.json';
  gpu = create([]);
  adapter = await gpu.requestAdapter();
  console.log('adapter2', adapter && adapter.info);
}
globalThis.navigator ??= {};
console.log(typeof globalThis.navigator, Object.getOwnPropertyDescriptor(globalThis, 'navigator'));
