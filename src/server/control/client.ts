/**
 * ControlClient: the control plane as methods, one per route. `startEmulator()` returns one bound
 * to the app in the same process (no socket); `ControlClient.connect(url, { token })` drives an
 * emulator running elsewhere (a CI service container) over HTTP. `session(id)` gives the same
 * methods acting on one session.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the answers are the routes' JSON, typed `any` in
   the published API (docs/control-plane.md): `unknown` would break every caller that reads a field. */
import type { FastifyInstance } from 'fastify';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
export type Transport = (
  method: Method,
  path: string,
  body: unknown,
  headers: Record<string, string>,
) => Promise<{ status: number; body: string }>;

export class ControlRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

export interface RequestFilter {
  vendor?: string;
  operation?: string;
  method?: string;
  status?: number | string;
  since?: string | number;
  limit?: number;
  /** `*` looks across every session (only on the unscoped client). */
  session?: string;
}

export interface FaultRule {
  vendor?: string;
  operation?: string;
  method?: string;
  path?: string;
  skip?: number;
  times?: number;
  probability?: number;
  seed?: number;
  delayMs?: number;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  preset?: string;
  message?: string;
  drop?: boolean;
}

export type ClockChange = { now: string | number } | { advance: number } | { real: true };

function qs(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export class ControlClient {
  constructor(
    private readonly transport: Transport,
    readonly sessionId: string | null = null,
    private readonly token: string | null = null,
  ) {}

  /** A client for an emulator reachable at `baseUrl` (uses fetch). */
  static connect(baseUrl: string, opts: { token?: string | null } = {}): ControlClient {
    const base = baseUrl.replace(/\/$/, '');
    return new ControlClient(
      async (method, path, body, headers) => {
        const res = await fetch(base + path, {
          method,
          headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: await res.text() };
      },
      null,
      opts.token ?? null,
    );
  }

  /** A client for an app in this process (app.inject: no socket). */
  static inject(app: FastifyInstance, token: string | null = null): ControlClient {
    return new ControlClient(
      async (method, url, payload, headers) => {
        const res = await app.inject({ method, url, payload: payload as string | object | undefined, headers });
        return { status: res.statusCode, body: res.body };
      },
      null,
      token,
    );
  }

  /**
   * The same methods, acting on session `id` (made on first use, or by `createSession()` with
   * --session-mode explicit).
   */
  session(id: string): ControlClient {
    return new ControlClient(this.transport, id, this.token);
  }

  private async call<T = any>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.sessionId) headers['x-emulator-session'] = this.sessionId;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await this.transport(method, `/_emulator${path}`, body, headers);
    const parsed = res.body ? JSON.parse(res.body) : undefined;
    if (res.status >= 400)
      throw new ControlRequestError(
        res.status,
        parsed,
        `${method} /_emulator${path}: ${res.status} ${parsed?.message ?? res.body}`,
      );
    return parsed as T;
  }

  private async text(method: Method, path: string): Promise<string> {
    const headers: Record<string, string> = {};
    if (this.sessionId) headers['x-emulator-session'] = this.sessionId;
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await this.transport(method, `/_emulator${path}`, undefined, headers);
    if (res.status >= 400)
      throw new ControlRequestError(res.status, res.body, `${method} /_emulator${path}: ${res.status} ${res.body}`);
    return res.body;
  }

  health() {
    return this.call('GET', '/health');
  }
  sessions() {
    return this.call('GET', '/sessions');
  }
  /**
   * Make session `id` (default: this client's session) from the fixtures; 409 if it exists. Needed
   * with --session-mode explicit.
   */
  createSession(id?: string) {
    const sid = id ?? this.sessionId;
    return this.call('POST', `/sessions${qs({ session: sid })}`);
  }
  deleteSession(id: string) {
    return this.call('DELETE', `/sessions/${encodeURIComponent(id)}`);
  }
  /** Back to the fixtures (everything: data, clock, journal, faults), or one vendor's data. */
  reset(opts: { vendor?: string } = {}) {
    return this.call('POST', `/reset${qs({ vendor: opts.vendor })}`);
  }
  snapshot(name: string) {
    return this.call('POST', `/snapshots/${encodeURIComponent(name)}`);
  }
  restore(name: string) {
    return this.call('POST', `/snapshots/${encodeURIComponent(name)}/restore`);
  }
  snapshots() {
    return this.call('GET', '/snapshots');
  }
  deleteSnapshot(name: string) {
    return this.call('DELETE', `/snapshots/${encodeURIComponent(name)}`);
  }
  /** `{ <vendor>: { <table>: rows } }`: write each as `<dir>/<vendor>/<table>.json` to get a fixtures folder. */
  exportFixtures(name: string) {
    return this.call<Record<string, Record<string, Record<string, unknown>[]>>>(
      'GET',
      `/snapshots/${encodeURIComponent(name)}/fixtures`,
    );
  }
  async requests(filter: RequestFilter = {}): Promise<any[]> {
    return (await this.call('GET', `/requests${qs({ ...filter })}`)).requests;
  }
  async countRequests(filter: RequestFilter = {}): Promise<number> {
    return (await this.call('GET', `/requests/count${qs({ ...filter })}`)).count;
  }
  clearRequests() {
    return this.call('DELETE', '/requests');
  }
  addFault(rule: FaultRule) {
    return this.call('POST', '/faults', rule);
  }
  async faults(): Promise<any[]> {
    return (await this.call('GET', '/faults')).faults;
  }
  removeFault(id: number) {
    return this.call('DELETE', `/faults/${id}`);
  }
  clearFaults() {
    return this.call('DELETE', '/faults');
  }
  clock() {
    return this.call('GET', '/clock');
  }
  setClock(change: ClockChange) {
    return this.call('PUT', '/clock', change);
  }
  /**
   * Which documented operations, bindings, outcomes and parameters the requests exercised: this
   * state's (or `session: '*'`, every session since start). `format` markdown or junit answers text.
   */
  coverage(opts: { format?: 'json'; vendor?: string; session?: string }): Promise<any>;
  coverage(opts: { format: 'markdown' | 'junit'; vendor?: string; session?: string }): Promise<string>;
  coverage(): Promise<any>;
  coverage(opts: { format?: 'json' | 'markdown' | 'junit'; vendor?: string; session?: string } = {}): Promise<any> {
    if (opts.format === 'markdown' || opts.format === 'junit') return this.text('GET', `/coverage${qs(opts)}`);
    return this.call('GET', `/coverage${qs(opts)}`);
  }
  /** Shadow mode (--upstream): drift per vendor and operation (`format: 'markdown'` answers text). */
  drift(opts: { format: 'markdown' }): Promise<string>;
  drift(opts?: { format?: 'json' }): Promise<any>;
  drift(opts: { format?: 'json' | 'markdown' } = {}): Promise<any> {
    return opts.format === 'markdown' ? this.text('GET', `/drift${qs(opts)}`) : this.call('GET', '/drift');
  }
  /**
   * The real exchanges shadow mode recorded (credentials redacted). With `dir`, each case is also
   * written as `<dir>/<vendor>/<seq>-<operation>.json`, a folder a team can keep as a regression suite.
   */
  async exportDrift(dir?: string): Promise<{ cases: { file: string; [k: string]: unknown }[] }> {
    const r = await this.call<{ cases: { file: string; [k: string]: unknown }[] }>('GET', '/drift/export');
    if (dir) {
      for (const { file, ...c } of r.cases) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), JSON.stringify(c, null, 2) + '\n');
      }
    }
    return r;
  }
  clearDrift() {
    return this.call('DELETE', '/drift');
  }
  clearCoverage(opts: { session?: string } = {}) {
    return this.call('DELETE', `/coverage${qs(opts)}`);
  }
  async outbox(filter: { vendor?: string } = {}): Promise<any[]> {
    return (await this.call('GET', `/outbox${qs(filter)}`)).messages;
  }
}
