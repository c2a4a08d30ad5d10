/**
 * What keeps a web page the developer happens to open from driving the emulator.
 *
 * - DNS rebinding: a page on evil.example can make its own name resolve to 127.0.0.1 and then read
 *   what the emulator answers (the journal holds credentials). Such a request carries
 *   `Host: evil.example`, so the control plane answers only a Host that is `localhost` (or a
 *   `*.localhost` name), an IP address (a rebinding page always uses a name), or a name given in
 *   `--allowed-hosts`. A request bearing the control token is answered whatever its Host: a page
 *   cannot know the token.
 * - Cross-site requests: a page can send "simple" POSTs (form or text/plain bodies, no preflight)
 *   anywhere. Browsers name the page in `Origin`, so a control request carrying an `Origin` other
 *   than the emulator's own (an allowed Host, same scheme-less host:port) or one in
 *   `--allowed-origins` is refused, and so is a vendor write (any method but GET, HEAD, OPTIONS).
 *   Clients other than browsers send no `Origin` and are not affected.
 */
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../core/config.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function list(v: string | null | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((x) => x.trim().toLowerCase())
    .filter((x) => x !== '');
}

/** The host name of a Host header value (`name:port`, `[v6]:port`), lower case, without the port. */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end === -1 ? h : h.slice(1, end);
  }
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

export class OriginGuard {
  private readonly hosts: string[];
  private readonly anyHost: boolean;
  private readonly origins: string[];

  constructor(config: Pick<Config, 'allowedHosts' | 'allowedOrigins'>) {
    this.hosts = list(config.allowedHosts);
    this.anyHost = this.hosts.includes('*');
    this.origins = list(config.allowedOrigins).map((o) => o.replace(/\/+$/, ''));
  }

  /** Is this vendor request a browser write from an origin not allowed (refused in the vendor's format)? */
  refusesWrite(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    return (
      origin !== undefined && !SAFE_METHODS.has(request.method) && !this.originAllowed(origin, request.headers.host)
    );
  }

  /** May the control plane answer a request with this Host header? (None: no name to rebind.) */
  hostAllowed(host: string | undefined): boolean {
    if (host === undefined || host === '' || this.anyHost) return true;
    const name = hostName(host);
    return name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0 || this.hosts.includes(name);
  }

  /**
   * Is a request from this browser Origin welcome? The emulator's own pages (an Origin naming the
   * request's own Host, when that Host is allowed or `hostTrusted`: the request bears the control
   * token) and the --allowed-origins are.
   */
  originAllowed(origin: string, host: string | undefined, hostTrusted = false): boolean {
    const o = origin.trim().toLowerCase().replace(/\/+$/, '');
    if (this.origins.includes(o) || this.origins.includes('*')) return true;
    const m = /^https?:\/\/([^/]+)$/.exec(o);
    return (
      m !== null && host !== undefined && m[1] === host.trim().toLowerCase() && (hostTrusted || this.hostAllowed(host))
    );
  }
}
