export { buildApp, type BuildAppOptions } from './build-app.js';
export { errorSchema, healthSchema, jobCreatedSchema, jobSchema, sampleJsonSchema } from './response-schemas.js';
export { serve, type ServingServer } from './serve.js';
export { SERVER_AUTO_ORDER, selectServerBackend } from './server-backend.js';
export {
  ConfigurationError,
  SERVER_USAGE,
  parseServerConfiguration,
  readClassifierFlag,
  readModelFlags,
  type ServerConfiguration,
} from './server-configuration.js';
