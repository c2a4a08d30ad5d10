/**
 * An oversized body over a real socket: the client keeps sending long after the server has
 * refused it. Each vendor's 413 must reach the client every time (no EPIPE, no ECONNRESET): the
 * server answers, then reads and discards the rest of the body before it closes (nginx's
 * lingering close). A client that sends far more than the drain allows is still cut off.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/server/start.js';
import { signatureHeader, formatTimestamp } from '../../src/routes/emailsrvr/auth.js';
import { SANDBOX, UA } from '../emailsrvr/helpers.js';

const MiB = 1_048_576;
const BODY_BYTES = 6 * MiB;
const TRIES = 20;
const RC = `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:rackcorp-sandbox-secret').toString('base64')}`;
const MG = `Basic ${Buffer.from('api-sandbox:mgmt-sandbox-password').toString('base64')}`;

interface Outcome {
  /** The raw answer (head and body), as far as it arrived. */
  answer: string;
  /** A socket error the client saw (EPIPE, ECONNRESET), if any. */
  error?: string;
  /** Bytes of the body the client managed to write. */
  written: number;
}

/**
 * Send `head` then `bodyBytes` bytes of `fill` as fast as the socket takes them, and read the
 * answer until the server closes. The client keeps sending after the answer and after the
 * server's FIN (allowHalfOpen), as a client that writes its whole body before it reads does.
 */
function send(port: number, head: string, bodyBytes: number, fill: string, timeoutMs = 20_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunk = Buffer.alloc(64 * 1024, fill);
    const received: Buffer[] = [];
    let written = 0;
    let error: string | undefined;
    const timer = setTimeout(() => {
      error ??= 'timeout';
      sock.destroy();
    }, timeoutMs);
    const pump = (): void => {
      while (written < bodyBytes) {
        const n = Math.min(chunk.length, bodyBytes - written);
        written += n;
        if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          sock.once('drain', pump);
          return;
        }
      }
      sock.end();
    };
    sock.on('connect', () => {
      sock.write(head);
      pump();
    });
    sock.on('data', (d) => received.push(d));
    sock.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ answer: Buffer.concat(received).toString('utf8'), error, written });
    });
  });
}

function requestHead(method: string, path: string, headers: Record<string, string>, length: number): string {
  const lines = [
    `${method} ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Content-Length: ${length}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Status and body of a raw HTTP/1.1 answer (Content-Length framed). */
function parse(answer: string): { status: number; headers: string; body: string } {
  const end = answer.indexOf('\r\n\r\n');
  const headers = end === -1 ? answer : answer.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headers)?.[1] ?? 0);
  const length = Number(/\r\ncontent-length: (\d+)/i.exec(headers)?.[1] ?? -1);
  const rest = end === -1 ? '' : answer.slice(end + 4);
  return { status, headers, body: length >= 0 ? rest.slice(0, length) : rest };
}

interface Target {
  vendor: string;
  method: string;
  path: string;
  headers(): Record<string, string>;
  /** The vendor's 413, as the client must read it. */
  check(status: number, body: string): void;
}

describe('an oversized body over a real socket (1 MiB limit, 6 MiB sent)', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ port: 0, host: '127.0.0.1', logLevel: 'silent' });
  });
  afterAll(async () => {
    await emu.close();
  });

  const targets: Target[] = [
    {
      vendor: 'rackcorp',
      method: 'POST',
      path: '/api/v2.8/customers',
      headers: () => ({ authorization: RC, 'content-type': 'application/json' }),
      check: (status, body) => {
        expect(status).toBe(413);
        expect(JSON.parse(body)).toEqual({
          code: 'FAULT',
          message: `Request body is larger than ${MiB} bytes`,
          error: { body: 'too large' },
          fault: { faultcode: 'Client', faultstring: `Request body is larger than ${MiB} bytes` },
        });
      },
    },
    {
      vendor: 'rackcorp (json.php)',
      method: 'POST',
      path: '/api/rest/v2.9/json.php',
      headers: () => ({ authorization: RC, 'content-type': 'application/json' }),
      check: (status, body) => {
        expect(status).toBe(413);
        expect(JSON.parse(body)).toMatchObject({ code: 'FAULT', error: { body: 'too large' } });
      },
    },
    {
      vendor: 'emailsrvr',
      method: 'POST',
      path: '/v0/customers',
      headers: () => ({
        'user-agent': UA,
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
        'x-api-signature': signatureHeader(
          SANDBOX.userKey,
          SANDBOX.secretKey,
          UA,
          formatTimestamp(emu.app.registry.defaultState.clock.now()),
        ),
      }),
      check: (status, body) => {
        expect(status).toBe(413);
        expect(JSON.parse(body)).toEqual({
          badRequestFault: {
            code: 413,
            message: 'Request body too large',
            details: `The request body is larger than ${MiB} bytes`,
          },
        });
      },
    },
    {
      vendor: 'ispcrm',
      method: 'POST',
      path: '/api/customer/create',
      headers: () => ({ 'content-type': 'application/x-www-form-urlencoded' }),
      check: (status, body) => {
        expect(status).toBe(413);
        expect(JSON.parse(body)).toEqual({
          result: null,
          error: `Request body too large. Maximum ${MiB} bytes allowed`,
        });
      },
    },
    {
      vendor: 'mgmt',
      method: 'PUT',
      path: '/api/v01/customers',
      headers: () => ({ authorization: MG, 'content-type': 'application/json' }),
      check: (status, body) => {
        expect(status).toBe(413);
        expect(JSON.parse(body)).toEqual({
          response: { code: 'E413', status: 413, message: 'Request body is too large' },
        });
      },
    },
  ];

  for (const t of targets) {
    it(`${t.vendor}: ${t.method} ${t.path} reads the 413 on every one of ${TRIES} tries`, async () => {
      const failures: string[] = [];
      for (let i = 0; i < TRIES; i++) {
        const out = await send(emu.port, requestHead(t.method, t.path, t.headers(), BODY_BYTES), BODY_BYTES, 'x');
        const { status, body } = parse(out.answer);
        if (out.error || status !== 413)
          failures.push(`try ${i + 1}: ${out.error ?? 'no error'}, status ${status}, ${out.written} bytes written`);
        else t.check(status, body);
      }
      expect(failures).toEqual([]);
    });
  }

  it(`an ordinary HTTP client (fetch) reads RackCorp's 413 FAULT on every one of ${TRIES} tries`, async () => {
    const body = Buffer.alloc(BODY_BYTES, 'f');
    for (let i = 0; i < TRIES; i++) {
      const res = await fetch(`${emu.url}/api/rest/v2.9/customers`, {
        method: 'POST',
        headers: { authorization: RC, 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ code: 'FAULT', message: `Request body is larger than ${MiB} bytes` });
    }
  });

  it('a chunked body (no Content-Length) that outgrows the limit gets the 413 too', async () => {
    const head =
      'POST /api/customer/create HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n';
    // One chunk of 6 MiB: its size line, then the bytes the pump writes, then the last chunk.
    const sizeLine = `${BODY_BYTES.toString(16)}\r\n`;
    const out = await new Promise<Outcome>((resolve) => {
      const sock = net.connect({ port: emu.port, host: '127.0.0.1', allowHalfOpen: true });
      const received: Buffer[] = [];
      let error: string | undefined;
      sock.on('connect', () => {
        sock.write(head + sizeLine);
        sock.write(Buffer.alloc(BODY_BYTES, 'y'));
        sock.end('\r\n0\r\n\r\n');
      });
      sock.on('data', (d) => received.push(d));
      sock.on('error', (e: NodeJS.ErrnoException) => {
        error ??= e.code;
      });
      sock.on('close', () => resolve({ answer: Buffer.concat(received).toString('utf8'), error, written: BODY_BYTES }));
    });
    expect(out.error).toBeUndefined();
    const { status, headers, body } = parse(out.answer);
    expect(status).toBe(413);
    expect(headers).toMatch(/\r\nconnection: close/i);
    expect(JSON.parse(body)).toEqual({ result: null, error: `Request body too large. Maximum ${MiB} bytes allowed` });
  });

  it('the drain is bounded in time: a client that trickles its body is cut off after the linger, not the request timeout', async () => {
    const started = Date.now();
    const out = await new Promise<Outcome & { closedAfter: number }>((resolve) => {
      const sock = net.connect({ port: emu.port, host: '127.0.0.1', allowHalfOpen: true });
      const received: Buffer[] = [];
      let error: string | undefined;
      let written = 1000;
      // A byte every 200 ms: read and discarded while the server lingers, refused (RST) once it has closed.
      const trickle = setInterval(() => {
        if (!sock.destroyed) {
          sock.write('s');
          written++;
        }
      }, 200);
      const giveUp = setTimeout(() => sock.destroy(), 20_000);
      sock.on('connect', () =>
        sock.write(
          `${requestHead('POST', '/api/customer/create', { 'content-type': 'application/x-www-form-urlencoded' }, BODY_BYTES)}${'s'.repeat(1000)}`,
        ),
      );
      sock.on('data', (d) => received.push(d));
      sock.on('error', (e: NodeJS.ErrnoException) => {
        error ??= e.code;
      });
      sock.on('close', () => {
        clearInterval(trickle);
        clearTimeout(giveUp);
        resolve({
          answer: Buffer.concat(received).toString('utf8'),
          error,
          written,
          closedAfter: Date.now() - started,
        });
      });
    });
    expect(parse(out.answer).status).toBe(413);
    expect(out.error).toMatch(/^(EPIPE|ECONNRESET)$/);
    // 5 s of linger; the request timeout (30 s) and the idle timeout (60 s) come far later.
    expect(out.closedAfter).toBeGreaterThanOrEqual(4_500);
    expect(out.closedAfter).toBeLessThan(15_000);
  });

  it('the drain is bounded: a client that sends far more than it allows is cut off, and the server keeps serving', async () => {
    // 16 x the 1 MiB limit is drained at most; 40 MiB is not waited for.
    const huge = 40 * MiB;
    const out = await send(
      emu.port,
      requestHead('POST', '/api/customer/create', { 'content-type': 'application/x-www-form-urlencoded' }, huge),
      huge,
      'z',
    );
    expect(out.error).toMatch(/^(EPIPE|ECONNRESET)$/);
    const res = await fetch(`${emu.url}/api/customer/list`, {
      method: 'POST',
      body: new URLSearchParams({ userid: '5', api_key: '0f9895fb407c83e5ea128082098b47681aa75d6944576423c4' }),
    });
    expect(res.status).toBe(200);
    expect((await res.json()).error).toBeNull();
  });
});
