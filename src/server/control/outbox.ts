/**
 * GET /_emulator/outbox: the messages the vendors would have sent (rows of every table flagged
 * `outbox: true`), newest first, each with its vendor and table.
 */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { vendors } from '../../vendors.js';
import { rowOrder } from '../../store/overlay.js';
import { controlSessionId, controlState } from './common.js';

const TIME_COLUMNS = ['createdAt', 'created_at', 'dateCreated', 'created', 'sentAt', 'sent_at', 'date'];

function timeOf(row: Record<string, unknown>): number {
  for (const c of TIME_COLUMNS) {
    const v = row[c];
    if (typeof v === 'number') return v > 1e11 ? v : v * 1000;
    if (typeof v === 'string' && Number.isFinite(Date.parse(v))) return Date.parse(v);
  }
  return 0;
}

export async function outboxRoutes(app: FastifyInstance, scope: FastifyInstance): Promise<void> {
  scope.get(
    '/outbox',
    {
      schema: {
        querystring: Type.Object({ vendor: Type.Optional(Type.String()), session: Type.Optional(Type.String()) }),
      },
    },
    async (request) => {
      const { vendor } = request.query as { vendor?: string };
      const db = controlState(app, request).db;
      const messages: { vendor: string; table: string; time: number; n: number; row: Record<string, unknown> }[] = [];
      for (const v of vendors) {
        if (vendor && v.name !== vendor) continue;
        for (const t of v.tables) {
          if (!t.outbox) continue;
          const rows = db.prepare(`SELECT * FROM ${t.name} ORDER BY ${rowOrder(db, t.name, true)}`).all() as Record<
            string,
            unknown
          >[];
          rows.forEach((row, i) => messages.push({ vendor: v.name, table: t.name, time: timeOf(row), n: i, row }));
        }
      }
      messages.sort((a, b) => b.time - a.time || a.n - b.n);
      return {
        session: controlSessionId(request),
        count: messages.length,
        messages: messages.map((m) => ({ vendor: m.vendor, table: m.table, ...m.row })),
      };
    },
  );
}
