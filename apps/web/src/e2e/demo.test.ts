import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createUNet } from '@tfjs-diffusion/networks';
import { savePipeline } from '@tfjs-diffusion/pipelines';
import { chromium, type Browser, type Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// End to end: build the demo, serve it on a free localhost port (a secure context, as WebGPU
// needs) and drive headless Chromium. With WebGPU disabled the page runs on wasm: it samples the
// shipped model with and without classifier guidance, trains a class-conditional model without
// leaking tensors, and loads another model file by URL. With WebGPU on SwiftShader, `auto` passes
// the software adapter over, and asked for by name WebGPU trains and stops at once.

const WEB_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RESULTS_DIRECTORY = join(WEB_ROOT, 'test-results');
const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** WebGPU on SwiftShader (a CPU emulation of a GPU). */
const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader'];
const haveChromium = existsSync(CHROMIUM_PATH);
// without a browser the test skips locally, but fails in CI (CI=1), where it must run
const skipReason = !haveChromium && !process.env['CI'] ? ` (skipped: ${CHROMIUM_PATH} missing; apt-get install chromium, or set CHROMIUM_PATH)` : '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Builds the app with vite in a child process (production mode, away from vitest's NODE_ENV=test). */
async function buildApp(outDir: string): Promise<void> {
  const vite = join(dirname(createRequire(join(WEB_ROOT, 'package.json')).resolve('vite/package.json')), 'bin', 'vite.js');
  // unminified: the test checks behaviour, and minifying tfjs takes a while on a busy machine
  await promisify(execFile)(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn', '--minify', 'false'], {
    cwd: WEB_ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function text(page: Page, testId: string): Promise<string> {
  return ((await page.getByTestId(testId).textContent()) ?? '').trim();
}

/** Brightness statistics of a canvas: min, max, and the count of bright pixels (> 200 of 255). */
async function canvasStatistics(page: Page, testId: string) {
  return page.getByTestId(testId).evaluate((canvas: HTMLCanvasElement) => {
    const context = canvas.getContext('2d') as CanvasRenderingContext2D;
    const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
    let min = 255;
    let max = 0;
    let bright = 0;
    for (let index = 0; index < data.length; index += 4) {
      const gray = data[index] as number;
      min = Math.min(min, gray);
      max = Math.max(max, gray);
      if (gray > 200) bright += 1;
    }
    return { min, max, bright, pixels: data.length / 4 };
  });
}

/** Polls a test hook's text until `accept` holds; fails at once on an 'error: ...' text, or after `timeout` ms. */
async function waitForText(page: Page, testId: string, accept: (value: string) => boolean, timeout: number): Promise<string> {
  const deadline = performance.now() + timeout;
  let value = '';
  while (performance.now() < deadline) {
    value = await text(page, testId);
    if (accept(value)) return value;
    if (value.startsWith('error')) throw new Error(`${testId}: ${value}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${testId} still reads '${value}' after ${timeout / 1000} s`);
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Colour statistics of a canvas: pixels whose red, green and blue differ by more than 8 (0 for gray images). */
async function colouredPixels(page: Page, testId: string): Promise<number> {
  return page.getByTestId(testId).evaluate((canvas: HTMLCanvasElement) => {
    const { data } = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, canvas.width, canvas.height);
    let coloured = 0;
    for (let index = 0; index < data.length; index += 4) {
      const [r, g, b] = [data[index] as number, data[index + 1] as number, data[index + 2] as number];
      if (Math.max(r, g, b) - Math.min(r, g, b) > 8) coloured += 1;
    }
    return coloured;
  });
}

/** A random-weight class-conditional U-Net for 12x12 RGB images with named classes, as a model file. */
async function tinyRgbModelFile(): Promise<Uint8Array> {
  await tf.setBackend('cpu');
  const network = {
    type: 'unet',
    imageSize: 12,
    inChannels: 3,
    modelChannels: 8,
    channelMultipliers: [1, 2],
    numResBlocks: 1,
    attentionResolutions: [],
    numHeads: 1,
    groupNormGroups: 4,
    numClasses: 3,
    seed: 7,
  };
  const model = createUNet(network);
  // the output layer starts at zero; give it weights so that samples show colour
  for (const [name, variable] of model.parameters) {
    if ((await variable.data()).every((value) => value === 0) && name.includes('out'))
      variable.assign(tf.randomNormal(variable.shape, 0, 0.2, 'float32', 3));
  }
  const bytes = await savePipeline(model, {
    network,
    schedule: { kind: 'cosine', timesteps: 50 },
    prediction: 'epsilon',
    variance: 'fixed-large',
    conditioning: { numClasses: 3, nullClass: 3, classNames: ['red', 'green', 'blue'] },
    data: { shape: [12, 12, 3], range: [-1, 1] },
    weights: 'raw',
  });
  model.dispose();
  return bytes;
}

/** Serves one file on a free localhost port, with CORS (the page comes from another port). */
async function serveFile(name: string, bytes: Uint8Array): Promise<{ server: Server; url: string }> {
  const port = await freePort();
  const server = createHttpServer((request, response) => {
    response.setHeader('Access-Control-Allow-Origin', '*');
    if (request.url !== `/${name}`) {
      response.statusCode = 404;
      response.end();
      return;
    }
    response.setHeader('Content-Type', 'application/octet-stream');
    response.end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { server, url: `http://localhost:${port}/${name}` };
}

/** Opens the page in its own context and waits for 'ready'; collects console errors. */
async function openPage(browser: Browser, url: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1000 } });
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  await page.goto(url);
  await waitForText(page, 'status', (value) => value === 'ready', 120_000);
  return page;
}

/** Fills the sampling form and generates; resolves to the seconds it took. */
async function generate(
  page: Page,
  settings: { classLabel?: string; guidance: string; scale?: string; steps: string; images: string; seed: string },
): Promise<void> {
  if (settings.classLabel !== undefined) await page.getByTestId('class').selectOption(settings.classLabel);
  await page.getByTestId('sampler').selectOption('ddim');
  await page.getByTestId('guidance').selectOption(settings.guidance);
  if (settings.scale !== undefined) await page.getByTestId('scale').fill(settings.scale);
  await page.getByTestId('steps').fill(settings.steps);
  await page.getByTestId('batch-size').fill(settings.images);
  await page.getByTestId('seed').fill(settings.seed);
  await page.getByTestId('generate').click();
  await waitForText(page, 'status', (value) => /^done in \d+(\.\d+)? s$/.test(value), 120_000);
}

/** Starts training, waits for `steps` steps, stops, and waits until the page says it stopped; returns the step shown when Stop was clicked and the final step. */
async function trainAndStop(page: Page, steps: number): Promise<{ clickedAt: number; stoppedAt: number }> {
  await page.getByTestId('train-start').click();
  await waitForText(page, 'train-step', (value) => Number(value) >= steps, 120_000);
  // read the step and click Stop in one go inside the page, so that no step ends in between
  const clickedAt = await page.evaluate(() => {
    const step = Number(document.querySelector('[data-testid="train-step"]')?.textContent);
    (document.querySelector('[data-testid="train-stop"]') as HTMLButtonElement).click();
    return step;
  });
  const status = await waitForText(page, 'train-status', (value) => /^stopped after \d+ steps$/.test(value), 60_000);
  return { clickedAt, stoppedAt: Number(/\d+/.exec(status)?.[0]) };
}

describe(`web demo in headless Chromium${skipReason}`, () => {
  let outDir = '';
  let server: PreviewServer | undefined;
  let modelServer: Server | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url = '';
  let modelUrl = '';
  const consoleErrors: string[] = [];
  const foreignRequests: string[] = [];

  beforeAll(async () => {
    if (skipReason) return;
    if (!haveChromium) throw new Error(`${CHROMIUM_PATH} is missing; the web demo test must run in CI (apt-get install chromium)`);
    outDir = mkdtempSync(join(tmpdir(), 'tfjs-diffusion-web-'));
    let started = performance.now();
    const [, served] = await Promise.all([buildApp(outDir), tinyRgbModelFile().then((bytes) => serveFile('tiny-rgb.safetensors', bytes))]);
    modelServer = served.server;
    modelUrl = served.url;
    console.log(`built the demo in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const port = await freePort();
    server = await preview({
      root: WEB_ROOT,
      logLevel: 'warn',
      build: { outDir },
      preview: { port, strictPort: true, host: '127.0.0.1', open: false },
    });
    url = `http://localhost:${port}/`;
    started = performance.now();
    // WebGPU disabled: no --enable-unsafe-webgpu
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    page = await openPage(browser, url, consoleErrors);
    page.on('request', (request) => {
      const requestUrl = new URL(request.url());
      if (!['data:', 'blob:'].includes(requestUrl.protocol) && requestUrl.hostname !== 'localhost') foreignRequests.push(request.url());
    });
    console.log(
      `page ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${await text(page, 'backend')} ${await text(page, 'backend-reason')}`,
    );
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    modelServer?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it.skipIf(Boolean(skipReason))('with WebGPU disabled, auto runs on wasm and says why', async () => {
    expect(await text(page, 'backend')).toBe('wasm');
    const reason = await text(page, 'backend-reason');
    expect(reason).toMatch(
      /auto chose 'wasm': tfjs-backend-wasm \(SIMD on, threads off\); training kernels registered: .*Conv2DBackpropFilter.*UnsortedSegmentSum/,
    );
    expect(reason).toContain('tried first: webgpu: ');
  });

  it.skipIf(Boolean(skipReason))(
    'samples a digit from the shipped model on wasm with 5 DDIM steps, leaving no tensor behind',
    async () => {
      expect(await text(page, 'model-classes')).toBe('0, 1, 2, 3, 4, 5, 6, 7, 8, 9');
      const tensorsBefore = await text(page, 'tensors');
      await generate(page, { classLabel: '3', guidance: 'none', steps: '5', images: '1', seed: '1' });
      console.log(`no guidance: ${await text(page, 'status')}, ${await text(page, 'step-time-mean')}`);
      expect(await page.getByTestId('step-times').locator('li').count()).toBe(5);
      expect(await page.getByTestId('progress').evaluate((element: HTMLProgressElement) => [element.value, element.max])).toEqual([5, 5]);
      const output = await canvasStatistics(page, 'output');
      // a digit: dark background, some bright strokes, not a constant or washed-out image
      expect(output.min).toBeLessThan(60);
      expect(output.max).toBeGreaterThan(200);
      expect(output.bright).toBeGreaterThan(output.pixels * 0.03);
      expect(output.bright).toBeLessThan(output.pixels * 0.5);
      expect(await text(page, 'tensors')).toBe(tensorsBefore);
    },
    180_000,
  );

  it.skipIf(Boolean(skipReason))(
    'offers classifier guidance on wasm and samples with it',
    async () => {
      const classifierOption = page.getByTestId('guidance').locator('option[value="classifier"]');
      expect(await classifierOption.isDisabled()).toBe(false);
      expect(await text(page, 'model-info')).toContain('Classifier guidance uses models/mnist-classifier.safetensors');
      const tensorsBefore = await text(page, 'tensors');
      await generate(page, { classLabel: '7', guidance: 'classifier', scale: '2', steps: '5', images: '2', seed: '2' });
      console.log(`classifier guidance: ${await text(page, 'status')}, ${await text(page, 'step-time-mean')}`);
      const output = await canvasStatistics(page, 'output');
      expect(output.max).toBeGreaterThan(200);
      expect(output.bright).toBeGreaterThan(output.pixels * 0.02);
      expect(output.bright).toBeLessThan(output.pixels * 0.5);
      expect(await text(page, 'tensors')).toBe(tensorsBefore);
      mkdirSync(RESULTS_DIRECTORY, { recursive: true });
      await page.screenshot({ path: join(RESULTS_DIRECTORY, 'demo.png'), fullPage: true });
    },
    180_000,
  );

  it.skipIf(Boolean(skipReason))(
    'trains a class-conditional MLP on wasm with a falling loss, and two runs leave the tensor count where it was',
    async () => {
      await page.getByTestId('tab-train').click();
      await page.getByTestId('train-hidden-size').fill('128');
      await page.getByTestId('train-hidden-layers').fill('1');
      await page.getByTestId('train-preview-every').fill('15');
      await page.getByTestId('train-preview-steps').fill('10');
      const tensorsBefore = await text(page, 'tensors');
      const started = performance.now();
      await trainAndStop(page, 30);
      expect(await text(page, 'train-conditioning')).toBe('one sample per class 0..9');
      const losses = JSON.parse((await page.getByTestId('loss').getAttribute('data-loss-history')) ?? '[]') as number[];
      const early = mean(losses.slice(0, 5));
      const late = mean(losses.slice(-5));
      console.log(
        `trained ${losses.length} steps in ${((performance.now() - started) / 1000).toFixed(1)} s (${await text(page, 'train-speed')}): ` +
          `loss ${early.toFixed(3)} over the first 5 steps, ${late.toFixed(3)} over the last 5`,
      );
      expect(losses.length).toBeGreaterThanOrEqual(30);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(late).toBeLessThan(early * 0.7);
      const samples = await canvasStatistics(page, 'train-samples');
      expect(samples.max).toBeGreaterThan(samples.min);
      expect(await text(page, 'tensors')).toBe(tensorsBefore);
      await trainAndStop(page, 3);
      expect(await text(page, 'train-status')).toMatch(/^stopped after \d+ steps$/);
      expect(await text(page, 'tensors')).toBe(tensorsBefore);
      mkdirSync(RESULTS_DIRECTORY, { recursive: true });
      await page.screenshot({ path: join(RESULTS_DIRECTORY, 'demo-training.png'), fullPage: true });
      await page.getByTestId('tab-sample').click();
    },
    180_000,
  );

  it.skipIf(Boolean(skipReason))(
    'loads a model file by URL, shows its classes, and samples its 12x12 RGB images',
    async () => {
      await page.getByTestId('model-url').fill(modelUrl);
      await page.getByTestId('model-load').click();
      await waitForText(page, 'model-info', (value) => value.startsWith(modelUrl), 60_000);
      await waitForText(page, 'status', (value) => value === 'ready', 60_000);
      expect(await text(page, 'model-classes')).toBe('red, green, blue');
      expect(await text(page, 'model-info')).toContain('12x12x3, cosine schedule with 50 steps');
      expect(await page.getByTestId('class').locator('option').allTextContents()).toEqual(['0: red', '1: green', '2: blue']);
      // no classifier came with it: that option is off, cfg (null class 3) is on
      expect(await page.getByTestId('guidance').locator('option[value="classifier"]').isDisabled()).toBe(true);
      expect(await page.getByTestId('guidance').locator('option[value="cfg"]').isDisabled()).toBe(false);
      const tensorsAfterLoad = await text(page, 'tensors');
      await generate(page, { classLabel: '2', guidance: 'cfg', scale: '2', steps: '4', images: '2', seed: '3' });
      const size = await page.getByTestId('output').evaluate((canvas: HTMLCanvasElement) => [canvas.width, canvas.height]);
      // two 12x12 images in a row, 1 pixel apart and framed
      expect(size).toEqual([2 * 13 + 1, 14]);
      expect(await colouredPixels(page, 'output')).toBeGreaterThan(20);
      expect(await page.getByTestId('step-times').locator('li').count()).toBe(4);
      expect(await text(page, 'tensors')).toBe(tensorsAfterLoad);

      // the same file dropped on the tab replaces the model (the old one's tensors are freed)
      await page.evaluate(async (source) => {
        const bytes = await (await fetch(source)).arrayBuffer();
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'dropped-rgb.safetensors'));
        const drop = new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true });
        document.querySelector('[data-testid="panel-sample"]')?.dispatchEvent(drop);
      }, modelUrl);
      await waitForText(page, 'model-info', (value) => value.startsWith('dropped-rgb.safetensors: class-conditional (3 classes) unet'), 60_000);
      await waitForText(page, 'status', (value) => value === 'ready', 60_000);
      expect(await text(page, 'model-classes')).toBe('red, green, blue');
      expect(await text(page, 'tensors')).toBe(tensorsAfterLoad);
    },
    120_000,
  );

  it.skipIf(Boolean(skipReason))(
    'with WebGPU on SwiftShader, auto passes the software adapter over, and asked for by name webgpu trains and stops within a step',
    async () => {
      const webgpuBrowser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...WEBGPU_ARGS] });
      try {
        const errors: string[] = [];
        const autoPage = await openPage(webgpuBrowser, url, errors);
        expect(await text(autoPage, 'backend')).toBe('wasm');
        expect(await text(autoPage, 'webgpu-adapter')).toMatch(/swiftshader.*: software \(/i);
        expect(await text(autoPage, 'backend-reason')).toMatch(
          /tried first: webgpu: the WebGPU adapter is .*swiftshader.*a software adapter .*auto never picks one/i,
        );
        await autoPage.close();

        let started = performance.now();
        const webgpuPage = await openPage(webgpuBrowser, `${url}?backend=webgpu`, errors);
        console.log(`webgpu page ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
        started = performance.now();
        expect(await text(webgpuPage, 'backend')).toBe('webgpu');
        await webgpuPage.getByTestId('tab-train').click();
        // a small model: SwiftShader runs every shader on the CPU
        await webgpuPage.getByTestId('train-hidden-size').fill('32');
        await webgpuPage.getByTestId('train-batch-size').fill('8');
        // a preview (20 DDIM steps, slow on SwiftShader) starts right after step 2: Stop lands in it
        await webgpuPage.getByTestId('train-preview-every').fill('2');
        await webgpuPage.getByTestId('train-preview-steps').fill('20');
        const tensorsBefore = await text(webgpuPage, 'tensors');
        const { clickedAt, stoppedAt } = await trainAndStop(webgpuPage, 2);
        console.log(
          `webgpu: Stop clicked at step ${clickedAt}, stopped after ${stoppedAt}; ${((performance.now() - started) / 1000).toFixed(1)} s of training`,
        );
        // Stop ends training after the step in flight; a preview in flight is aborted between its steps
        expect(stoppedAt - clickedAt).toBeLessThanOrEqual(1);
        expect(await text(webgpuPage, 'tensors')).toBe(tensorsBefore);
        expect(errors).toEqual([]);
      } finally {
        await webgpuBrowser.close();
      }
    },
    240_000,
  );

  it.skipIf(Boolean(skipReason))('logs no console errors and fetches nothing from outside localhost', () => {
    expect(consoleErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });
});
