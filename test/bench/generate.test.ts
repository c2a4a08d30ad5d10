/**
 * `npm run generate`: the same seed gives byte-identical files, another seed other data, and the
 * folder loads with buildApp({ fixtures }) and answers on every vendor.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../../src/server/app.js';

const ROOT = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gen-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function generate(out: string, seed: number, customers = 300): void {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'scripts/generate.mjs'), '--customers', String(customers), '--out', out, '--seed', String(seed)],
    { encoding: 'utf8' },
  );
  expect(r.status, r.stderr).toBe(0);
}

/** file path -> sha256 of its bytes, for every file under dir. */
function digest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of fs.readdirSync(dir).sort()) {
    for (const f of fs.readdirSync(path.join(dir, v)).sort()) {
      out[`${v}/${f}`] = crypto
        .createHash('sha256')
        .update(fs.readFileSync(path.join(dir, v, f)))
        .digest('hex');
    }
  }
  return out;
}

/**
 * The rows of a JSON Lines file as objects: generated files start with a header line naming the
 * columns, then one array per row.
 */
function lines(file: string): any[] {
  const parsed = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));
  const header = Array.isArray(parsed[0]) ? (parsed.shift() as string[]) : null;
  return parsed.map((r) => (Array.isArray(r) ? Object.fromEntries(header!.map((c, i) => [c, r[i]])) : r));
}

describe('npm run generate', () => {
  const a = path.join(tmp, 'a');
  const b = path.join(tmp, 'b');
  const c = path.join(tmp, 'c');
  generate(a, 7);
  generate(b, 7);
  generate(c, 8);

  it('is deterministic: the same seed gives identical files', () => {
    const da = digest(a);
    expect(Object.keys(da)).toContain('rackcorp/rackcorp_customers.jsonl');
    expect(Object.keys(da)).toContain('emailsrvr/emailsrvr_accounts.jsonl');
    expect(Object.keys(da)).toContain('ispcrm/ispcrm_customers.jsonl');
    expect(Object.keys(da)).toContain('mgmt/mgmt_customers.jsonl');
    expect(digest(b)).toEqual(da);
    expect(digest(c)['rackcorp/rackcorp_customers.jsonl']).not.toBe(da['rackcorp/rackcorp_customers.jsonl']);
  });

  it('tops every vendor up to N customers', () => {
    expect(lines(path.join(a, 'rackcorp/rackcorp_customers.jsonl'))).toHaveLength(300);
    expect(lines(path.join(a, 'ispcrm/ispcrm_customers.jsonl'))).toHaveLength(300);
    expect(lines(path.join(a, 'mgmt/mgmt_customers.jsonl'))).toHaveLength(300);
    expect(
      lines(path.join(a, 'emailsrvr/emailsrvr_accounts.jsonl')).filter((r) => r.reseller_account !== null),
    ).toHaveLength(300);
  });

  it('loads with buildApp({ fixtures }) and answers on each vendor', async () => {
    const app = await buildApp({ logLevel: 'silent', fixtures: a });
    try {
      const rcLast = lines(path.join(a, 'rackcorp/rackcorp_customers.jsonl')).at(-1);
      const rc = await app.inject({
        method: 'GET',
        url: `/api/rest/v2.9/json.php?cmd=customer.get&id=${rcLast.id}`,
        headers: {
          authorization:
            'Basic ' + Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64'),
        },
      });
      expect(rc.statusCode).toBe(200);
      expect(rc.body).toContain(rcLast.customID);

      const kw = await app.inject({
        method: 'GET',
        url: `/api/rest/v2.9/json.php?cmd=customer.getall&keyword=${encodeURIComponent(rcLast.customID)}`,
        headers: {
          authorization:
            'Basic ' + Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64'),
        },
      });
      expect(kw.json().count).toBe(1);

      const ua = 'gen-test/1.0';
      const ts = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
      const sig = crypto
        .createHash('sha1')
        .update('emailsrvr-sandbox-user-key' + ua + ts + 'emailsrvr-sandbox-secret-key')
        .digest('base64');
      const es = await app.inject({
        method: 'GET',
        url: '/v1/customers?size=1&offset=0',
        headers: {
          'user-agent': ua,
          'x-api-signature': `emailsrvr-sandbox-user-key:${ts}:${sig}`,
          accept: 'application/json',
        },
      });
      expect(es.statusCode).toBe(200);
      const sandboxCustomers = lines(path.join(a, 'emailsrvr/emailsrvr_accounts.jsonl')).filter(
        (r) => r.reseller_account === 460180,
      ).length;
      expect(sandboxCustomers).toBeGreaterThan(150);
      expect(Number(es.json().total)).toBe(sandboxCustomers);

      const isp = await app.inject({
        method: 'POST',
        url: '/api/customer/list',
        payload: { userid: 5, api_key: '0f9895fb407c83e5ea128082098b47681aa75d6944576423c4', show_count: 1 },
      });
      expect(isp.statusCode).toBe(200);
      expect(isp.json().result).toBe(300 - 150 + 110); // generated customers all belong to reseller 1

      const mg = await app.inject({
        method: 'GET',
        url: '/api/v01/customers?limit=1',
        headers: { authorization: 'Basic ' + Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64') },
      });
      expect(mg.statusCode).toBe(200);
      expect(Number(mg.headers['x-total-count'])).toBe(300 - 170 + 140);
    } finally {
      await app.close();
    }
  });
});
