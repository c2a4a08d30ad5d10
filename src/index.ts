export { buildApp } from './server/app.js';
export { startEmulator, type RunningEmulator, type SessionControl } from './server/start.js';
export { ControlClient, ControlRequestError, type RequestFilter, type FaultRule } from './server/control/client.js';
export type { Config } from './core/config.js';
