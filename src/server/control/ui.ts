/**
 * The dashboard: `GET /_emulator/ui` serves a static page (ui/index.html, app.js, style.css at the
 * package root, shipped with it: the same path from src/ and dist/) that drives the JSON control
 * routes from the browser. The page and its assets hold no data, so they load without the control
 * token; every call the page makes sends the token the user typed (kept in sessionStorage).
 *   GET /_emulator/ui, /_emulator/ui/app.js, /_emulator/ui/style.css
 *   GET /_emulator/vendors      name, title, base paths, tables, sandbox credentials, fault presets
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { ControlError } from './common.js';

const UI_DIR = new URL('../../../ui/', import.meta.url);

const ASSETS: Record<string, { file: string; type: string }> = {
  '': { file: 'index.html', type: 'text/html; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const HEADERS = {
  // Nothing but our own script and style; bodies shown on the page are text, never markup.
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Is this a path the token check lets through (the dashboard's static files)? */
export function isUiAsset(path: string): boolean {
  return /^\/_emulator\/ui(\/(app\.js|style\.css)?)?$/.test(path);
}

export async function uiRoutes(app: FastifyInstance, scope: FastifyInstance): Promise<void> {
  const cache = new Map<string, Buffer>();
  const load = (file: string): Buffer => {
    let b = cache.get(file);
    if (!b) {
      try {
        b = readFileSync(new URL(file, UI_DIR));
      } catch {
        throw new ControlError(404, `The dashboard file ui/${file} is missing from this installation`);
      }
      cache.set(file, b);
    }
    return b;
  };
  for (const [name, asset] of Object.entries(ASSETS)) {
    scope.get(name ? `/ui/${name}` : '/ui', async (_request, reply) =>
      reply.headers(HEADERS).type(asset.type).send(load(asset.file)),
    );
  }

  scope.get('/vendors', async () => ({
    vendors: app.registry.vendors.map((v) => ({
      name: v.name,
      title: v.title,
      basePaths: v.basePaths,
      tables: v.tables.map((t) => t.name),
      sandbox: v.sandbox ?? [],
      faultPresets: Object.keys(v.faultPresets ?? {}),
    })),
  }));
}
