#!/usr/bin/env node
/**
 * The `vendor-api-emulator` command (`npm start`, the Docker image, `npx vendor-api-emulator`).
 * It runs the command line (main.ts) from the one-file build when
 * `npm run build` made one (see bundle.ts), else from the separate modules.
 */
import { loadBundle } from './bundle.js';
import { keepTickShape } from './tick-shape.js';

// Before the bundle is loaded: its load and the start that follows make the first full collections.
keepTickShape();
const bundle = loadBundle();
if (bundle) bundle.run();
else await import('./main.js');
