#!/usr/bin/env node
/**
 * The ceiling: a bare Fastify server answering, for each captured route, the exact response body
 * (status and Content-Type too) the emulator gave for that scenario. No store, no auth, no
 * validation: what a server costs when it does nothing but answer. Started and loaded exactly as
 * the emulator is (same node, same pinning, same load generator).
 *
 *   node bench/ceiling.mjs --port 0 --routes routes.json
 * routes.json: [{ key, method, path, status, contentType, body }]. Several keys may share a method
 * and path (json.php serves many commands): the request's `x-bench-route` header picks one, which
 * the harness sends to both servers (the emulator ignores it).
 */
import fs from 'node:fs';
import Fastify from 'fastify';
import formbody from '@fastify/formbody';

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const routes = arg('--routes') ? JSON.parse(fs.readFileSync(arg('--routes'), 'utf8')) : [];
const port = Number(arg('--port', '0'));

const app = Fastify({ logger: false });
// Accept the same bodies the emulator parses, so the ceiling reads the request as it does.
await app.register(formbody);
app.addContentTypeParser(['text/xml', 'application/xml'], { parseAs: 'string' }, (_req, body, done) =>
  done(null, body),
);

const byRoute = new Map();
for (const r of routes) {
  const k = `${r.method} ${r.path}`;
  if (!byRoute.has(k)) byRoute.set(k, new Map());
  byRoute.get(k).set(r.key, r);
}
for (const [k, variants] of byRoute) {
  const [method, path] = k.split(' ');
  const first = variants.values().next().value;
  app.route({
    method,
    url: path,
    handler: (req, reply) => {
      const r = variants.get(req.headers['x-bench-route']) ?? first;
      reply.code(r.status).header('content-type', r.contentType);
      return reply.send(r.body);
    },
  });
}
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`ceiling listening on http://127.0.0.1:${app.server.address().port}\n`);
const stop = () => app.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
