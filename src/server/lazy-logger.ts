import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'fastify/types/logger.js';

/**
 * A request's logger that makes pino's child (with the request id) only when something is logged:
 * at the default level (warn) almost no request logs anything, and a child per request is a
 * measurable share of a busy server's CPU.
 */
export class LazyChildLogger {
  private made: FastifyBaseLogger | null = null;
  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly opts: ChildLoggerOptions,
  ) {}
  private enabled(level: string): boolean {
    return (this.parent as unknown as { isLevelEnabled?(l: string): boolean }).isLevelEnabled?.(level) ?? true;
  }
  private get real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings, this.opts));
  }
  get level(): string {
    return this.parent.level;
  }
  set level(v: string) {
    this.real.level = v;
  }
  fatal(...a: unknown[]): void {
    (this.real.fatal as (...x: unknown[]) => void)(...a);
  }
  error(...a: unknown[]): void {
    (this.real.error as (...x: unknown[]) => void)(...a);
  }
  warn(...a: unknown[]): void {
    if (this.enabled('warn')) (this.real.warn as (...x: unknown[]) => void)(...a);
  }
  info(...a: unknown[]): void {
    if (this.enabled('info')) (this.real.info as (...x: unknown[]) => void)(...a);
  }
  debug(...a: unknown[]): void {
    if (this.enabled('debug')) (this.real.debug as (...x: unknown[]) => void)(...a);
  }
  trace(...a: unknown[]): void {
    if (this.enabled('trace')) (this.real.trace as (...x: unknown[]) => void)(...a);
  }
  silent(): void {}
  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger {
    return this.real.child(bindings, opts);
  }
}
