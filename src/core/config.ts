/**
 * The shape of the emulator's configuration, shared by every layer: the option table's row type
 * (vendors contribute rows through `VendorModule.options`) and the `Config` object the app and the
 * vendors receive. Reading flags and environment variables is src/server/config.ts's job alone.
 */

/** `list`: a repeatable flag (each use adds a value) or a comma-separated environment variable. */
export type OptionType = 'string' | 'integer' | 'boolean' | 'list';

export interface OptionSpec {
  /** Key in the Config object (camelCase). */
  key: string;
  /** Long flag, without the leading dashes. */
  flag: string;
  /** Environment variable. */
  env: string;
  type: OptionType;
  default: string | number | boolean | null;
  help: string;
  /** Flag that sets a boolean option to false (e.g. `lenient` for `strict`). */
  negatedBy?: string;
  min?: number;
  max?: number;
  choices?: readonly string[];
}

/** Everything the app needs to run. Vendor options are carried in the same object by key. */
export interface Config {
  port: number;
  host: string;
  db: string | null;
  fixtures: string;
  /** Seed cache folder; null: the default one; false (--no-seed-cache) or "off": none. */
  seedCache: string | false | null;
  /** A seed compiled at start of more bytes than this is written after the server listens. */
  seedWriteLaterBytes: number;
  exportSeed: string | null;
  logLevel: string;
  maxBodyBytes: number;
  jwtTtl: number;
  controlToken: string | null;
  maxSessions: number;
  /** Megabytes; 0 = derived from the machine's or cgroup's memory. */
  maxMemory: number;
  /** A seed up to this size is copied into each new session; a bigger one is overlaid. */
  sessionCopyMaxBytes: number;
  sessionIdleSeconds: number;
  sessionMode: 'implicit' | 'explicit';
  journalSize: number;
  journalBodyBytes: number;
  journalStateBytes: number;
  journalTotalBytes: number;
  maxFaultRules: number;
  maxFaultBytes: number;
  maxSnapshots: number;
  maxSnapshotBytes: number;
  maxInFlightPerClient: number;
  allowedHosts: string | null;
  allowedOrigins: string | null;
  strict: boolean;
  validateResponses: boolean;
  requestTimeout: number;
  coverage: boolean;
  coverageOut: string | null;
  /** `<vendor>=<base URL>` each (shadow mode). */
  upstream: string[] | null;
  upstreamTimeout: number;
  [vendorKey: string]: unknown;
}
