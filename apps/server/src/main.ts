#!/usr/bin/env node
import { ConfigurationError, SERVER_USAGE, parseServerConfiguration } from './server-configuration.js';
import { serve } from './serve.js';

/** `pnpm server`: starts the sampling server and shuts it down gracefully on SIGTERM / SIGINT. */
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
  const server = await serve(configuration);
  console.error(`listening on ${server.url} (POST /v1/samples, GET /healthz; max batch ${configuration.maxBatch}, max queue ${configuration.maxQueue})`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      console.error(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    console.error(`${signal}: no new requests; finishing the ones in flight`);
    server.close().then(
      () => {
        console.error('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`error while stopping: ${error instanceof Error ? error.message : String(error)}`);
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
