/**
 * Fault injection. Rules live per state (a rule added for a session only touches that session's
 * requests) and are checked for vendor requests only (never for /_emulator, so health is never
 * delayed). A rule says which requests (vendor, operation, method, path glob), when (skip the
 * first M matches, then fire on the next N, each with a probability drawn from the rule's own
 * seeded generator, so a run repeats), and what:
 *   - `delay`: answer normally, `ms` later (the request is handled; only its answer is late);
 *   - `status`: answer this status, body and headers instead of the vendor;
 *   - `preset`: answer the vendor's own error, byte for byte (VendorModule.faultPresets);
 *   - `drop`: close the connection without answering.
 * A fault that answers does so before the vendor's handler touches the store, so it changes nothing.
 *
 * Rules naming no operation are checked when the request arrives (onRequest, before the vendor's
 * own hooks). Rules naming an operation are checked when the vendor plugin names the operation
 * (`request.emulator.operation = ...`,
 * the first thing its handlers do): the handler is stopped by an exception and the fault's answer
 * replaces whatever the vendor's error handler made of it (onSend).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { EmulatorState } from '../../store/state.js';
import type { VendorModule } from '../../routes/shared/vendor.js';
import { vendors } from '../../vendors.js';
import { ControlError, controlSessionId, controlState } from './common.js';
import { traceOf } from './journal.js';

export const FaultRuleInput = Type.Object(
  {
    vendor: Type.Optional(Type.String({ minLength: 1 })),
    operation: Type.Optional(Type.String({ minLength: 1 })),
    method: Type.Optional(Type.String({ minLength: 1 })),
    /** Glob over the path the client used (after any /_sessions/<id> prefix): `*` matches anything. */
    path: Type.Optional(Type.String({ minLength: 1 })),
    /** Let this many matching requests through first. */
    skip: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Fire this many times, then stop (absent = every time). */
    times: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Fire with this probability (0..1) on each candidate request. */
    probability: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** Seed of the rule's generator (default 1): the same seed gives the same sequence. */
    seed: Type.Optional(Type.Integer()),
    delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    body: Type.Optional(Type.Unknown()),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    preset: Type.Optional(Type.String({ minLength: 1 })),
    message: Type.Optional(Type.String()),
    drop: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type FaultRuleInput = Static<typeof FaultRuleInput>;

export type FaultKind = 'delay' | 'status' | 'preset' | 'drop';

export interface FaultRule extends FaultRuleInput {
  id: number;
  kind: FaultKind;
  seed: number;
  createdAt: string;
  /** Requests that matched the rule's filters. */
  matched: number;
  /** Times it fired. */
  fired: number;
  /** It has fired `times` times and no longer applies. */
  exhausted: boolean;
}

interface RuleRuntime {
  rule: FaultRule;
  /** What the rule costs to keep: the bytes of its JSON as sent. */
  bytes: number;
  random: () => number;
  path: string | null;
}

/** mulberry32: a tiny seeded generator, enough to make "fail 30% of calls" repeat run after run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Does `text` match `glob`, where `*` matches any run of characters (`/` included) and every other
 * character only itself? The greedy two-pointer match: on a mismatch it only ever moves back to the
 * last `*` seen, so it takes at most O(glob x text) steps and never backtracks exponentially (a
 * regular expression `.*a.*a.*b` froze the server for minutes on a 74-character path).
 * picomatch does not fit: its `*` stops at `/`, and the documented rule syntax lets it cross.
 */
export function globMatch(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (g < glob.length && glob[g] !== '*' && glob[g] === text[t]) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      mark = t;
    } else if (star !== -1) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/** What one state's rules may hold (--max-fault-rules, --max-fault-bytes). */
export interface FaultLimits {
  maxRules: number;
  maxBytes: number;
}

export class FaultSet {
  private rules: RuleRuntime[] = [];
  private nextId = 1;
  /** Bytes of the rules held (their JSON). */
  bytes = 0;

  add(
    input: FaultRuleInput,
    createdAt: string,
    limits: FaultLimits = { maxRules: Infinity, maxBytes: Infinity },
  ): FaultRule {
    if (this.rules.length >= limits.maxRules) {
      throw new ControlError(
        409,
        `This session already holds ${this.rules.length} fault rules, the most allowed (--max-fault-rules ${limits.maxRules}); DELETE /_emulator/faults/<id> one it no longer needs`,
      );
    }
    const bytes = Buffer.byteLength(JSON.stringify(input));
    if (this.bytes + bytes > limits.maxBytes) {
      throw new ControlError(
        413,
        `This rule (${bytes} bytes of JSON) would take the session's fault rules past ${limits.maxBytes} bytes (--max-fault-bytes; ${this.bytes} held)`,
      );
    }
    const kinds: FaultKind[] = [];
    if (input.delayMs !== undefined) kinds.push('delay');
    if (input.status !== undefined) kinds.push('status');
    if (input.preset !== undefined) kinds.push('preset');
    if (input.drop) kinds.push('drop');
    if (kinds.length !== 1)
      throw new ControlError(
        400,
        'A fault rule needs exactly one of: delayMs, status (with body), preset (with vendor), drop: true',
      );
    const kind = kinds[0];
    if (input.vendor !== undefined && !vendors.some((v) => v.name === input.vendor)) {
      throw new ControlError(400, `Unknown vendor "${input.vendor}"; one of ${vendors.map((v) => v.name).join(', ')}`);
    }
    if (kind === 'preset') {
      const v = vendors.find((x) => x.name === input.vendor);
      if (!v) throw new ControlError(400, 'A preset fault needs the vendor it belongs to ("vendor")');
      if (!v.faultPresets?.[input.preset!]) {
        throw new ControlError(
          400,
          `Vendor ${v.name} has no fault preset "${input.preset}"; its presets: ${Object.keys(v.faultPresets ?? {}).join(', ') || 'none'}`,
        );
      }
    }
    if (input.body !== undefined && kind !== 'status') throw new ControlError(400, '"body" goes with "status" only');
    const seed = input.seed ?? 1;
    const rule: FaultRule = {
      ...input,
      method: input.method?.toUpperCase(),
      id: this.nextId++,
      kind,
      seed,
      createdAt,
      matched: 0,
      fired: 0,
      exhausted: false,
    };
    this.rules.push({ rule, bytes, random: mulberry32(seed), path: input.path ?? null });
    this.bytes += bytes;
    return rule;
  }

  list(): FaultRule[] {
    return this.rules.map((r) => ({ ...r.rule }));
  }

  remove(id: number): boolean {
    const i = this.rules.findIndex((r) => r.rule.id === id);
    if (i === -1) return false;
    this.bytes -= this.rules[i].bytes;
    this.rules.splice(i, 1);
    return true;
  }

  clear(): number {
    const n = this.rules.length;
    this.rules = [];
    this.bytes = 0;
    return n;
  }

  get size(): number {
    return this.rules.length;
  }

  /**
   * The first rule that fires for this request. `operation` undefined = the pre-handler check
   * (rules naming an operation wait for it); a string = the operation check.
   */
  pick(req: { vendor: string; method: string; path: string }, operation?: string): FaultRule | null {
    for (const r of this.rules) {
      const rule = r.rule;
      if (rule.exhausted) continue;
      if (operation === undefined ? rule.operation !== undefined : rule.operation !== operation) continue;
      if (rule.vendor !== undefined && rule.vendor !== req.vendor) continue;
      if (rule.method !== undefined && rule.method !== req.method) continue;
      if (r.path !== null && !globMatch(r.path, req.path)) continue;
      rule.matched++;
      if (rule.matched <= (rule.skip ?? 0)) continue;
      if (rule.probability !== undefined && !(r.random() < rule.probability)) continue;
      rule.fired++;
      if (rule.times !== undefined && rule.fired >= rule.times) rule.exhausted = true;
      return { ...rule };
    }
    return null;
  }
}

export function faultsOf(state: EmulatorState): FaultSet {
  return state.extra('faults', () => new FaultSet());
}

// ---- applying a fault to a vendor request ----

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function answerOf(rule: FaultRule, vendor: VendorModule, request: FastifyRequest): Answer {
  if (rule.kind === 'preset') {
    const accept = request.headers.accept;
    const a = vendor.faultPresets![rule.preset!]({
      accept: Array.isArray(accept) ? accept[0] : accept,
      message: rule.message,
    });
    return { status: a.status, headers: { ...(a.headers ?? {}) }, body: a.body };
  }
  const body = rule.body;
  if (typeof body === 'string')
    return {
      status: rule.status!,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...(rule.headers ?? {}) },
      body,
    };
  return {
    status: rule.status!,
    headers: { 'content-type': 'application/json; charset=utf-8', ...(rule.headers ?? {}) },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

const PENDING = Symbol('pendingFault');
type WithPending = FastifyRequest & { [PENDING]?: { rule: FaultRule; answer?: Answer } };

/** Thrown from the operation setter to stop a handler that a fault answers for. */
export class FaultInjected extends Error {
  readonly statusCode = 400;
  readonly code = 'EMULATOR_FAULT_INJECTED';
  constructor() {
    super('Request answered by an injected fault');
  }
}

function publicPath(request: FastifyRequest): string {
  return request.originalUrl.split('?')[0].replace(/^\/_sessions\/[^/]*/, '') || '/';
}

function noteFault(request: FastifyRequest, rule: FaultRule, dropped = false): void {
  const trace = traceOf(request);
  if (trace) {
    trace.fault = rule.id;
    if (dropped) trace.dropped = true;
  }
}

/**
 * Close the connection without an answer; `hijack` when no handler is running (else it is stopped
 * by FaultInjected).
 */
function drop(request: FastifyRequest, reply: FastifyReply, hijack: boolean, onDropped: () => void): void {
  noteFault(request, (request as WithPending)[PENDING]!.rule, true);
  onDropped();
  if (hijack) reply.hijack();
  request.raw.socket?.destroy();
}

/** The fault rules of the request's state, when it has any (most states have none). */
export function activeFaults(request: FastifyRequest): FaultSet | undefined {
  const set = request.emulator.state.extras.get('faults') as FaultSet | undefined;
  return set && set.size > 0 ? set : undefined;
}

/**
 * A vendor request arrives in a state that has fault rules. Rules naming an operation are armed
 * (they fire when the vendor names it, the first thing its handlers do); rules naming none fire
 * now, before the vendor's own onRequest hooks (its authentication, negotiation, throttling), so a
 * fault answers whatever the request holds. `done` continues the request; it is not called when a
 * fault answered or dropped it.
 */
export function faultsOnRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  vendor: VendorModule,
  rules: FaultSet,
  onDropped: (request: FastifyRequest) => void,
  done: () => void,
): void {
  const info = request.emulator;
  let operation: string | null = info.operation;
  Object.defineProperty(info, 'operation', {
    configurable: true,
    enumerable: true,
    get: () => operation,
    set: (name: string | null) => {
      operation = name;
      if (name === null || (request as WithPending)[PENDING]) return;
      const set = activeFaults(request);
      if (!set) return;
      const rule = set.pick({ vendor: vendor.name, method: request.method, path: publicPath(request) }, name);
      if (!rule) return;
      if (rule.kind === 'delay') {
        (request as WithPending)[PENDING] = { rule };
        noteFault(request, rule);
        return;
      }
      (request as WithPending)[PENDING] = {
        rule,
        answer: rule.kind === 'drop' ? undefined : answerOf(rule, vendor, request),
      };
      if (rule.kind === 'drop') drop(request, reply, false, () => onDropped(request));
      else noteFault(request, rule);
      throw new FaultInjected();
    },
  });
  const rule = rules.pick({ vendor: vendor.name, method: request.method, path: publicPath(request) });
  if (!rule) return done();
  noteFault(request, rule);
  if (rule.kind === 'delay') {
    setTimeout(done, rule.delayMs!);
    return;
  }
  if (rule.kind === 'drop') {
    (request as WithPending)[PENDING] = { rule };
    drop(request, reply, true, () => onDropped(request));
    return;
  }
  const a = answerOf(rule, vendor, request);
  (request as WithPending)[PENDING] = { rule };
  reply.code(a.status).headers(a.headers).send(a.body);
}

/**
 * The answer is about to go out: a fault armed for this request delays it or replaces it.
 * Calls `done(payload)` with what to send (now or after the delay).
 */
/** Has a fault rule armed itself on this request (to delay or replace its answer)? */
export function faultPending(request: FastifyRequest): boolean {
  return !!(request as WithPending)[PENDING];
}

export function faultsOnSend(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  done: (payload: unknown) => void,
): void {
  const pending = (request as WithPending)[PENDING];
  if (!pending) return done(payload);
  if (pending.rule.kind === 'delay') {
    setTimeout(() => done(payload), pending.rule.delayMs!);
    return;
  }
  const a = pending.answer;
  if (!a) return done(payload);
  for (const name of Object.keys(reply.getHeaders())) {
    if (name !== 'content-length') reply.removeHeader(name);
  }
  reply.code(a.status).headers(a.headers);
  done(a.body);
}

// ---- routes ----

export async function faultRoutes(app: FastifyInstance, scope: FastifyInstance): Promise<void> {
  scope.post('/faults', { schema: { body: FaultRuleInput } }, async (request, reply) => {
    const state = controlState(app, request);
    const limits = { maxRules: app.config.maxFaultRules, maxBytes: app.config.maxFaultBytes };
    const rule = faultsOf(state).add(request.body as FaultRuleInput, new Date().toISOString(), limits);
    return reply.code(201).send({ ...rule, session: controlSessionId(request) });
  });
  scope.get('/faults', async (request) => {
    const state = controlState(app, request);
    return { session: controlSessionId(request), faults: faultsOf(state).list() };
  });
  scope.delete('/faults', async (request) => {
    return { removed: faultsOf(controlState(app, request)).clear() };
  });
  scope.delete(
    '/faults/:id',
    { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } },
    async (request) => {
      const { id } = request.params as { id: number };
      if (!faultsOf(controlState(app, request)).remove(id))
        throw new ControlError(404, `No fault rule ${id} in this session`);
      return { removed: 1 };
    },
  );
}
