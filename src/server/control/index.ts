/**
 * The control plane: everything under /_emulator. Health lives here; the rest (sessions, reset,
 * snapshots, journal, faults, clock) joins it in the control-plane work.
 */
import type { FastifyInstance } from 'fastify';
import { vendors } from '../../vendors.js';
import { VERSION } from '../version.js';

export async function registerControlPlane(app: FastifyInstance): Promise<void> {
  app.get('/_emulator/health', async (_request, reply) => {
    const db = app.registry.defaultState.db;
    // Ready means: the store answers a query and the fixtures were loaded into it.
    let seeded = false;
    try {
      seeded = !!db.open && !!db.prepare("SELECT value FROM _emulator_meta WHERE key = 'seeded'").get();
    } catch {
      seeded = false;
    }
    if (!seeded) return reply.code(503).send({ status: 'starting', version: VERSION });
    return {
      status: 'ok',
      version: VERSION,
      store: app.registry.persistent ? 'file' : 'memory',
      sessions: app.registry.sessions.size,
      vendors: vendors.map((v) => ({ name: v.name, title: v.title, basePaths: v.basePaths })),
    };
  });
}
