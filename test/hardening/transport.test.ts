/**
 * Transport abuse: oversized, deeply nested, hostile-XML, invalid UTF-8 and mislabelled bodies to
 * every vendor (each answered in the vendor's format, never a 5xx), and requests that never finish
 * over a real socket (cut off by the request timeout; the server keeps serving).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { makeApp, tableDigest } from '../helpers.js';
import { startEmulator, type RunningEmulator } from '../../src/server/start.js';
import { signed } from '../emailsrvr/helpers.js';

const RC = {
  authorization: `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64')}`,
};
const MG = { authorization: `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}` };
const ISP = { userid: '5', api_key: '0f9895fb407c83e5ea128082098b47681aa75d6944576423c4' };
const LIMIT = 4096;

interface Vendor {
  name: string;
  /** A write request carrying `payload` with `contentType`. */
  req(app: FastifyInstance, payload: string | Buffer, contentType: string): InjectOptions;
  /** Asserts the answer is this vendor's error format and returns its HTTP status. */
  isError(res: LightMyRequestResponse): void;
  tables: string;
}

const vendors: Vendor[] = [
  {
    name: 'rackcorp',
    tables: 'rackcorp_',
    req: (_app, payload, ct) => ({
      method: 'POST',
      url: '/api/rest/v2.9/json.php',
      headers: { ...RC, 'content-type': ct },
      payload,
    }),
    isError: (res) => {
      expect([200, 413]).toContain(res.statusCode);
      expect(res.json()).toMatchObject({ code: 'FAULT', fault: { faultcode: 'Client' } });
    },
  },
  {
    name: 'emailsrvr',
    tables: 'emailsrvr_',
    req: (app, payload, ct) => ({
      method: 'POST',
      url: '/customers',
      headers: { ...signed(app, undefined, { accept: 'text/xml' }), 'content-type': ct },
      payload,
    }),
    isError: (res) => {
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.body).toMatch(
        new RegExp(
          `^<\\?xml version="1\\.0" encoding="utf-8"\\?>\\r?\\n<(badRequestFault|validationFault) code="${res.statusCode}">`,
        ),
      );
    },
  },
  {
    name: 'ispcrm',
    tables: 'ispcrm_',
    req: (_app, payload, ct) => ({
      method: 'POST',
      url: '/api/customer/create',
      headers: { 'content-type': ct },
      payload,
    }),
    isError: (res) => {
      expect(res.statusCode).toBeLessThan(500);
      const b = res.json();
      expect(b.result).toBeNull();
      expect(typeof b.error).toBe('string');
    },
  },
  {
    name: 'mgmt',
    tables: 'mgmt_',
    req: (_app, payload, ct) => ({
      method: 'PUT',
      url: '/api/v01/customers',
      headers: { ...MG, 'content-type': ct },
      payload,
    }),
    isError: (res) => {
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.json().response.code).toBe(`E${res.statusCode}`);
    },
  },
];

const nestedJson = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const nestedObj = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const nestedXml = (depth: number) => `<customer>${'<a>'.repeat(depth)}x${'</a>'.repeat(depth)}</customer>`;
const BILLION_LAUGHS = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<customer accountId="2001"><name>&lol9;</name><lastName>&lol9;</lastName></customer>`;
const XXE = `<?xml version="1.0"?><!DOCTYPE customer [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><customer accountId="2001"><name>&xxe;</name><lastName>&xxe;</lastName></customer>`;
const XXE_PARAM = `<?xml version="1.0"?><!DOCTYPE customer [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]><customer accountId="2001"><name>x</name></customer>`;
const INVALID_UTF8 = Buffer.concat([
  Buffer.from('{"name":"'),
  Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0xed, 0xa0, 0x80]),
  Buffer.from('","companyName":"x"}'),
]);

describe('transport abuse', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await makeApp({ maxBodyBytes: LIMIT });
  });
  afterAll(async () => {
    await app.close();
  });

  // Invalid UTF-8 is decoded with U+FFFD and a charset parameter is not judged, as most servers do:
  // those may be accepted (the rest must be refused), but never with a 5xx.
  const lenient = new Set([
    'invalid UTF-8 in JSON',
    'invalid UTF-8 in a form',
    'invalid UTF-8 in XML',
    'a malformed content type',
  ]);
  const bodies: [string, string | Buffer, string][] = [
    ['an oversized JSON body', JSON.stringify({ name: 'x'.repeat(LIMIT * 4) }), 'application/json'],
    ['an oversized form body', `name=${'x'.repeat(LIMIT * 4)}`, 'application/x-www-form-urlencoded'],
    ['an oversized XML body', `<customer><name>${'x'.repeat(LIMIT * 4)}</name></customer>`, 'application/xml'],
    ['JSON nested 2,000 deep (arrays)', nestedJson(2000), 'application/json'],
    ['JSON nested 500 deep (objects)', nestedObj(500), 'application/json'],
    ['XML nested 500 deep', nestedXml(500), 'application/xml'],
    ['a billion-laughs XML', BILLION_LAUGHS, 'application/xml'],
    ['an external-entity XML', XXE, 'text/xml'],
    ['an external parameter-entity XML', XXE_PARAM, 'application/xml'],
    ['invalid UTF-8 in JSON', INVALID_UTF8, 'application/json'],
    [
      'invalid UTF-8 in a form',
      Buffer.concat([Buffer.from('name='), Buffer.from([0xff, 0xc3, 0x28])]),
      'application/x-www-form-urlencoded',
    ],
    [
      'invalid UTF-8 in XML',
      Buffer.concat([
        Buffer.from('<customer><name>'),
        Buffer.from([0xff, 0xc3, 0x28]),
        Buffer.from('</name></customer>'),
      ]),
      'application/xml',
    ],
    ['JSON labelled as XML', '{"name":"x"}', 'application/xml'],
    ['XML labelled as JSON', '<customer><name>x</name></customer>', 'application/json'],
    [
      'a multipart body',
      '--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--x--',
      'multipart/form-data; boundary=x',
    ],
    ['an unknown content type', 'name=x', 'application/vnd.evil'],
    ['a malformed content type', '{"name":"x"}', 'application/json; charset=bogus; ;;'],
  ];

  for (const v of vendors) {
    it.each(bodies)(
      `${v.name}: %s is answered in the vendor's format; a refusal changes nothing`,
      async (what, payload, ct) => {
        const before = tableDigest(app, v.tables);
        const res = await app.inject(v.req(app, payload, ct));
        expect(res.statusCode, res.body.slice(0, 300)).toBeLessThan(500);
        if (lenient.has(what) && res.statusCode === 200 && !/FAULT|"error":"|Fault/.test(res.body)) return;
        v.isError(res);
        expect(res.body).not.toContain('root:');
        expect(res.body).not.toContain('lollollol');
        expect(tableDigest(app, v.tables)).toBe(before);
      },
    );

    it(`${v.name}: a body over the limit answers 413`, async () => {
      const res = await app.inject(v.req(app, JSON.stringify({ name: 'x'.repeat(LIMIT * 2) }), 'application/json'));
      expect(res.statusCode).toBe(413);
      v.isError(res);
    });
  }
});

describe('requests that never finish (real socket)', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, logLevel: 'silent', requestTimeout: 500 });
  });
  afterAll(async () => {
    await emu.close();
  });

  /** Open a socket, write `data`, and resolve when the server closes it (with whatever it sent). */
  function hang(data: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(emu.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => {
        got += d.toString();
      });
      sock.on('error', () => resolve(got));
      sock.on('close', () => resolve(got));
      sock.on('connect', () => sock.write(data));
      setTimeout(() => {
        sock.destroy();
        reject(new Error('the server kept the connection open past 20 s'));
      }, 20_000);
    });
  }

  it('a body that never arrives (Content-Length promised, never sent) is cut off by the request timeout', async () => {
    const got = await hang(
      'POST /api/customer/list HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"userid":',
    );
    // Closed by the idle timeout (2 x requestTimeout) that backs up Node's request timeout.
    expect(got).toBe('');
  });

  it('headers that never end are cut off too', async () => {
    const got = await hang('GET /v1/customers HTTP/1.1\r\nHost: x\r\nX-Slow: a');
    if (got) expect(got).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a dozen hung connections do not stop the server from answering', async () => {
    const hung = Array.from({ length: 12 }, () =>
      hang(
        'POST /api/customer/update HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50\r\n\r\nuserid=5',
      ),
    );
    const res = await fetch(`${emu.url}/_emulator/health`);
    expect(res.status).toBe(200);
    await Promise.all(hung);
    const again = await fetch(`${emu.url}/api/customer/list`, { method: 'POST', body: new URLSearchParams(ISP) });
    expect((await again.json()).error).toBeNull();
  });
});
