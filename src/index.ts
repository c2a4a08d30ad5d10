export { buildApp } from './server/app.js';
export { startEmulator, type RunningEmulator } from './server/start.js';
export type { Config } from './server/config.js';
