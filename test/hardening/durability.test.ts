/**
 * Durability with --db: the real CLI on a temporary file, concurrent clients writing to all four
 * vendors, SIGKILL at seeded random moments, restart on the same file. Every acknowledged write
 * must be there after the restart, nothing half-written may be visible (a RackCorp customer
 * always has its location and contact), and ids are never handed out twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { signatureHeader, formatTimestamp } from '../../src/routes/emailsrvr/auth.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/server/cli.js');
const CYCLES = Number(process.env.DURABILITY_CYCLES ?? 20);
const SEED = Number(process.env.FUZZ_SEED ?? 20240611);

function start(db: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--port', '0', '--db', db, '--log-level', 'silent'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => reject(new Error(`CLI exited (${code}) before listening: ${out}`)));
  });
}

type Ack = { vendor: 'rackcorp' | 'emailsrvr' | 'ispcrm' | 'mgmt'; id: number; tag: string };
const RC_AUTH = `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64')}`;
const MG_AUTH = `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}`;
const ISP = { userid: '5', api_key: '0f9895fb407c83e5ea128082098b47681aa75d6944576423c4' };

/** One acknowledged write; resolves to the ack, or null when the process died under it. */
async function write(url: string, vendor: Ack['vendor'], tag: string): Promise<Ack | null> {
  try {
    if (vendor === 'rackcorp') {
      const r = await fetch(`${url}/api/rest/v2.9/json.php`, {
        method: 'POST',
        headers: { authorization: RC_AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({
          cmd: 'customer.create',
          companyName: tag,
          locations: [{ addressLine1: '1 St', suburb: 'X', country: 'AU' }],
          contacts: [{ name: tag, email: 'a@example.com' }],
        }),
      });
      const b = await r.json();
      if (b.code !== 'OK') throw new Error(JSON.stringify(b));
      return { vendor, id: Number(b.customerid ?? b.customerId), tag };
    }
    if (vendor === 'emailsrvr') {
      const ua = 'dur/1';
      const ts = formatTimestamp(Date.now());
      const r = await fetch(`${url}/customers`, {
        method: 'POST',
        headers: {
          'user-agent': ua,
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          'x-api-signature': signatureHeader('emailsrvr-sandbox-user-key', 'emailsrvr-sandbox-secret-key', ua, ts),
        },
        body: new URLSearchParams({ name: tag }),
      });
      if (r.status !== 200) throw new Error(await r.text());
      return { vendor, id: Number((await r.json()).accountNumber), tag };
    }
    if (vendor === 'ispcrm') {
      const r = await fetch(`${url}/api/customer/create`, {
        method: 'POST',
        body: new URLSearchParams({
          ...ISP,
          type: 'Individual',
          name: tag,
          mobile: '1234567',
          email: 'a@example.com',
          zipcode: '403001',
          state: 'Goa',
          city: 'Panaji',
          street: 'x',
        }),
      });
      const b = await r.json();
      if (b.error !== null) throw new Error(JSON.stringify(b));
      return { vendor, id: Number(b.result), tag };
    }
    const r = await fetch(`${url}/api/v01/customers`, {
      method: 'PUT',
      headers: { authorization: MG_AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ accountId: 2001, lastName: tag }),
    });
    if (r.status !== 200) throw new Error(await r.text());
    return { vendor, id: Number((await r.json()).id), tag };
  } catch (e) {
    if (
      /fetch failed|ECONNRESET|ECONNREFUSED|socket|terminated|other side closed/i.test(
        String((e as Error).message) + String((e as Error & { cause?: Error }).cause?.message),
      )
    )
      return null;
    throw e;
  }
}

describe('durability with --db under SIGKILL', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emu-durability-'));
  }, 120_000);
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`every acknowledged write survives ${CYCLES} SIGKILLs; nothing is half-written; no id is reused`, async () => {
    const file = path.join(dir, 'store.db');
    const rand = fc.sample(fc.integer({ min: 50, max: 700 }), { seed: SEED, numRuns: CYCLES });
    const acks: Ack[] = [];
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const { child, url } = await start(file);
      const exited = new Promise((r) => child.on('exit', r));
      let killed = false;
      const clients = (['rackcorp', 'emailsrvr', 'ispcrm', 'mgmt', 'rackcorp', 'mgmt'] as const).map(
        async (vendor, ci) => {
          for (let i = 0; !killed; i++) {
            const ack = await write(url, vendor, `dur-${cycle}-${ci}-${i}`);
            if (ack) acks.push(ack);
            else break;
          }
        },
      );
      await new Promise((r) => setTimeout(r, rand[cycle]));
      killed = true;
      child.kill('SIGKILL');
      await exited;
      await Promise.all(clients);
    }

    expect(acks.length).toBeGreaterThan(CYCLES * 4);
    // Restart once more on the file and read it back through the real server, then through SQLite.
    const { child, url } = await start(file);
    try {
      const sample = acks.filter((a) => a.vendor === 'mgmt').slice(-5);
      for (const a of sample) {
        const r = await fetch(`${url}/api/v01/customers/${a.id}`, { headers: { authorization: MG_AUTH } });
        expect(r.status).toBe(200);
        expect((await r.json()).lastName).toBe(a.tag);
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.on('exit', r));
    }
    const db = new Database(file, { readonly: true });
    try {
      const q = {
        rackcorp: db.prepare('SELECT companyName AS tag FROM rackcorp_customers WHERE id = ?'),
        emailsrvr: db.prepare('SELECT name AS tag FROM emailsrvr_accounts WHERE account_number = ?'),
        ispcrm: db.prepare('SELECT name AS tag FROM ispcrm_customers WHERE id = ?'),
        mgmt: db.prepare('SELECT last_name AS tag FROM mgmt_customers WHERE id = ?'),
      };
      for (const a of acks)
        expect((q[a.vendor].get(a.id) as { tag: string } | undefined)?.tag, `${a.vendor} ${a.id}`).toBe(a.tag);
      for (const v of ['rackcorp', 'emailsrvr', 'ispcrm', 'mgmt'] as const) {
        const ids = acks.filter((a) => a.vendor === v).map((a) => a.id);
        expect(new Set(ids).size, `${v} ids handed out twice`).toBe(ids.length);
      }
      // Nothing half-written: every customer the test created has its location and contact.
      const orphans = db
        .prepare(
          `SELECT c.id FROM rackcorp_customers c WHERE c.companyName LIKE 'dur-%'
        AND (NOT EXISTS (SELECT 1 FROM rackcorp_locations l WHERE l.customerId = c.id) OR NOT EXISTS (SELECT 1 FROM rackcorp_contacts k WHERE k.customerId = c.id))`,
        )
        .all();
      expect(orphans).toEqual([]);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  }, 180_000);
});
