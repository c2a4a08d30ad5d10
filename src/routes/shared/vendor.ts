/**
 * What a vendor contributes to the emulator. The app and the control plane only ever talk to
 * vendors through this shape (the store through its lower part, `VendorData` in src/core), so
 * adding a vendor (or covering it with the journal, faults, sessions and snapshots) needs no code
 * outside its own folder beyond one line in src/vendors.ts.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { OptionSpec, Config } from '../../core/config.js';
import type { VendorData } from '../../core/vendor.js';
import type { RenderFailure } from './errors.js';

/** A canned answer in the vendor's own wire format, for fault injection. */
export interface FaultPresetAnswer {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export interface FaultPresetInput {
  /** The request's Accept header (vendors that negotiate use it to pick XML or JSON). */
  accept?: string;
  /** Optional message from the fault rule, to override the preset's default text. */
  message?: string;
}

/** One sandbox credential, as shown on the dashboard (`GET /_emulator/vendors`). */
export interface SandboxCredential {
  /** What it is, e.g. "API key (APIUUID / APISECRET)". */
  label: string;
  /** The value(s) to use, e.g. "<uuid> / <secret>". */
  value: string;
}

export interface VendorPluginOptions {
  config: Config;
}

/**
 * The app-side part of a vendor, on top of what the store needs of it (`VendorData`: name, tables, after-load step).
 */
export interface VendorModule extends VendorData {
  /** Human title for the README/dashboard. */
  title: string;
  /**
   * The prefix the vendor's plugin is mounted under (its routes, error handler and not-found
   * handler apply below it). Several public paths can reach it through `rewriteUrl`.
   */
  prefix: string;
  /** Public base paths a client may use (for the README, the journal and the dashboard). */
  basePaths: string[];
  /**
   * Map a public URL onto the mounted prefix (e.g. RackCorp `/api/v1.2/customers` to
   * `/api/rest/v2.9/customers`), or return undefined when the URL is not this vendor's.
   * Runs before routing, after the `/_sessions/<id>` prefix is stripped.
   */
  rewriteUrl?(url: string): string | undefined;
  /** Extra command-line options of this vendor (read by src/server/config.ts, nowhere else). */
  options?: OptionSpec[];
  /** Named error presets for fault injection: the vendor's real error, byte for byte. */
  faultPresets?: Record<string, (input: FaultPresetInput) => FaultPresetAnswer>;
  /**
   * The presets (names in `faultPresets`) that answer the emulator's own refusals, with its message:
   * `busy`, a request over the in-flight cap (--max-in-flight-per-client); `forbidden`, a browser
   * write from an origin not allowed (--allowed-origins). Without them the refusal is a plain JSON 503 / 403.
   */
  refusalPresets?: { busy: string; forbidden: string };
  /**
   * The vendor's OpenAPI contract (paths built from its own schemas, examples for the self-check),
   * served at /_emulator/openapi/<vendor>.json and used by --validate-responses.
   */
  contract?: import('./contract.js').VendorContract;
  /** Sandbox credentials that work against the fixtures (the dashboard lists them). */
  sandbox?: SandboxCredential[];
  /**
   * Whether a path that reached no vendor still clearly aims at this one: its base path in
   * another case (`/v0/Customers`, `/API/rest/v2.9/...`) or a near miss of it. Such a path gets this
   * vendor's not-found answer; only paths no vendor claims get the emulator's generic 404.
   */
  claimsPath?(path: string): boolean;
  /** Every failure in the vendor's own words (its envelope.ts); the plugin's error path uses the same. */
  renderFailure?: RenderFailure;
  /** The vendor's routes, error handler and not-found handler, registered under `prefix`. */
  plugin: FastifyPluginAsync<VendorPluginOptions>;
}
