#!/usr/bin/env node
import pino from 'pino';
import { ConfigurationError, SERVER_USAGE, parseServerConfiguration } from './server-configuration.js';
import { serve } from './serve.js';

/** `pnpm run server`: starts the sampling API and shuts it down gracefully on SIGTERM / SIGINT. */
async function main(): Promise<number | undefined> {
  let configuration;
  try {
    configuration = parseServerConfiguration(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    console.error(`error: ${error.message}\n\n${SERVER_USAGE}`);
    return 2;
  }
  if (configuration === 'help') {
    console.log(SERVER_USAGE);
    return 0;
  }
  const log = pino({ level: configuration.logLevel, base: { service: 'tfjs-diffusion-server' } });
  const server = await serve(configuration, log);
  log.info(
    { url: server.url, mode: server.backend.mode, maxBatch: configuration.maxBatch, maxQueue: configuration.maxQueue },
    `listening on ${server.url} (POST /v1/samples, POST /v1/jobs, GET /healthz, GET /metrics, GET /openapi.json, GET /docs)`,
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'no new requests; finishing the ones in flight');
    server.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return undefined;
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
