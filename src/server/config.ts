/**
 * The one place that reads flags and environment variables.
 *
 * Every option is a row in one table: its flag, its environment variable, its type, its
 * default and its help line. Vendors contribute rows of their own through `VendorModule.options`
 * (so a vendor's knobs live beside the vendor), but this module is still the only one that
 * reads `process.argv` and `process.env`; everything else receives a plain `Config` object.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { vendorOptionSpecs } from '../vendors.js';
import type { Config, OptionSpec } from '../core/config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The fixtures folder that ships with the package (works from src/ and from dist/). */
export const DEFAULT_FIXTURES_DIR = path.resolve(here, '..', '..', 'fixtures');

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const SESSION_MODES = ['implicit', 'explicit'] as const;

export const coreOptionSpecs: OptionSpec[] = [
  {
    key: 'port',
    flag: 'port',
    env: 'PORT',
    type: 'integer',
    default: 8080,
    min: 0,
    max: 65535,
    help: 'TCP port to listen on (0 = any free port)',
  },
  {
    key: 'host',
    flag: 'host',
    env: 'HOST',
    type: 'string',
    default: '127.0.0.1',
    help: 'address to listen on (the Docker image uses 0.0.0.0)',
  },
  {
    key: 'db',
    flag: 'db',
    env: 'EMULATOR_DB',
    type: 'string',
    default: null,
    help: 'keep the default store in this SQLite file (WAL); a new file is seeded from the fixtures once',
  },
  {
    key: 'fixtures',
    flag: 'fixtures',
    env: 'EMULATOR_FIXTURES',
    type: 'string',
    default: DEFAULT_FIXTURES_DIR,
    help: 'fixtures folder to seed from (same layout as ./fixtures), or a SQLite file made by --export-seed',
  },
  {
    key: 'seedCache',
    flag: 'seed-cache',
    env: 'EMULATOR_SEED_CACHE',
    type: 'string',
    default: null,
    negatedBy: 'no-seed-cache',
    help: 'folder that keeps the compiled seed of each fixture set, so a later start with the same fixtures skips loading them (unset: $XDG_CACHE_HOME/vendor-api-emulator or ~/.cache/vendor-api-emulator; --no-seed-cache or "off": none)',
  },
  {
    key: 'seedWriteLaterBytes',
    flag: 'seed-write-later-bytes',
    env: 'EMULATOR_SEED_WRITE_LATER_BYTES',
    type: 'integer',
    default: 33_554_432,
    min: 0,
    help: 'a seed compiled at start that is bigger than this is written to the seed cache after the emulator starts answering (a new session, a reset or a stop waits for the rest of it); a smaller one is written before',
  },
  {
    key: 'exportSeed',
    flag: 'export-seed',
    env: 'EMULATOR_EXPORT_SEED',
    type: 'string',
    default: null,
    help: 'write the seed compiled from --fixtures to this SQLite file and exit (usable as --fixtures <file>)',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'LOG_LEVEL',
    type: 'string',
    default: 'warn',
    choices: LOG_LEVELS,
    help: `log level (${LOG_LEVELS.join(', ')})`,
  },
  {
    key: 'maxBodyBytes',
    flag: 'max-body-bytes',
    env: 'EMULATOR_MAX_BODY_BYTES',
    type: 'integer',
    default: 1_048_576,
    min: 1024,
    help: "largest request body accepted, in bytes (larger ones get the vendor's error)",
  },
  {
    key: 'controlToken',
    flag: 'control-token',
    env: 'EMULATOR_CONTROL_TOKEN',
    type: 'string',
    default: null,
    help: 'require "Authorization: Bearer <token>" on every /_emulator route but health',
  },
  {
    key: 'maxSessions',
    flag: 'max-sessions',
    env: 'EMULATOR_MAX_SESSIONS',
    type: 'integer',
    default: 100,
    min: 1,
    help: 'most isolated sessions alive at once; at the limit the least recently used idle one is dropped',
  },
  {
    key: 'maxMemory',
    flag: 'max-memory',
    env: 'EMULATOR_MAX_MEMORY',
    type: 'integer',
    default: 0,
    min: 0,
    help: "megabytes of memory (RSS) the process may use: past it a new session is refused with a 503 in the vendor's format, and no session is dropped to make room (0 = 80% of the memory of the machine, or of its container's cgroup limit when lower)",
  },
  {
    key: 'sessionCopyMaxBytes',
    flag: 'session-copy-max-bytes',
    env: 'EMULATOR_SESSION_COPY_MAX_BYTES',
    type: 'integer',
    default: 2_097_152,
    min: 0,
    help: 'a seed up to this many bytes is copied whole into each new session (its reads run on plain tables); a bigger one is shared copy-on-write, each session holding only its changes (0 = always shared)',
  },
  {
    key: 'sessionIdleSeconds',
    flag: 'session-idle-seconds',
    env: 'EMULATOR_SESSION_IDLE_SECONDS',
    type: 'integer',
    default: 1800,
    min: 0,
    help: 'drop a session unused for this many seconds (0 = never)',
  },
  {
    key: 'sessionMode',
    flag: 'session-mode',
    env: 'EMULATOR_SESSION_MODE',
    type: 'string',
    default: 'implicit',
    choices: SESSION_MODES,
    help: 'implicit: a request naming an unknown session makes it from the fixtures; explicit: only POST /_emulator/sessions makes one, and a request naming an unknown session gets a 404 naming it (for instances behind a load balancer)',
  },
  {
    key: 'journalSize',
    flag: 'journal-size',
    env: 'EMULATOR_JOURNAL_SIZE',
    type: 'integer',
    default: 1000,
    min: 0,
    help: "requests kept in each session's journal (a ring: the oldest go first; 0 = no journal)",
  },
  {
    key: 'journalBodyBytes',
    flag: 'journal-body-bytes',
    env: 'EMULATOR_JOURNAL_BODY_BYTES',
    type: 'integer',
    default: 65536,
    min: 0,
    help: 'request and response bodies are kept in the journal up to this many bytes each',
  },
  {
    key: 'journalStateBytes',
    flag: 'journal-state-bytes',
    env: 'EMULATOR_JOURNAL_STATE_BYTES',
    type: 'integer',
    default: 16 * 1_048_576,
    min: 0,
    help: "bytes kept in each session's journal (the default state's too); past it the oldest entries go first",
  },
  {
    key: 'journalTotalBytes',
    flag: 'journal-total-bytes',
    env: 'EMULATOR_JOURNAL_TOTAL_BYTES',
    type: 'integer',
    default: 256 * 1_048_576,
    min: 0,
    help: 'bytes kept in all journals together; past it the oldest entries of the process go first',
  },
  {
    key: 'maxFaultRules',
    flag: 'max-fault-rules',
    env: 'EMULATOR_MAX_FAULT_RULES',
    type: 'integer',
    default: 100,
    min: 1,
    help: 'fault rules each session (and the default state) may hold; one more is refused with 409',
  },
  {
    key: 'maxFaultBytes',
    flag: 'max-fault-bytes',
    env: 'EMULATOR_MAX_FAULT_BYTES',
    type: 'integer',
    default: 1_048_576,
    min: 1024,
    help: 'bytes of fault rules (their JSON) each session may hold; a rule that would pass it is refused with 413',
  },
  {
    key: 'maxSnapshots',
    flag: 'max-snapshots',
    env: 'EMULATOR_MAX_SNAPSHOTS',
    type: 'integer',
    default: 50,
    min: 1,
    help: "named snapshots kept (the instance's, shared by the sessions); one more is refused with 409",
  },
  {
    key: 'maxSnapshotBytes',
    flag: 'max-snapshot-bytes',
    env: 'EMULATOR_MAX_SNAPSHOT_BYTES',
    type: 'integer',
    default: 256 * 1_048_576,
    min: 1024,
    help: 'bytes of all snapshots together; a snapshot that would pass it is refused with 413',
  },
  {
    key: 'maxInFlightPerClient',
    flag: 'max-in-flight-per-client',
    env: 'EMULATOR_MAX_IN_FLIGHT_PER_CLIENT',
    type: 'integer',
    default: 64,
    min: 1,
    help: "requests one client address may have running at once; the surplus is refused (503, in the vendor's format)",
  },
  {
    key: 'allowedHosts',
    flag: 'allowed-hosts',
    env: 'EMULATOR_ALLOWED_HOSTS',
    type: 'string',
    default: null,
    help: 'comma-separated host names (besides loopback ones) the control plane answers to, e.g. emulator,ci.internal ("*" = any)',
  },
  {
    key: 'allowedOrigins',
    flag: 'allowed-origins',
    env: 'EMULATOR_ALLOWED_ORIGINS',
    type: 'string',
    default: null,
    help: "comma-separated browser origins (besides the emulator's own) allowed to call the control plane and write to vendors, e.g. http://localhost:3000",
  },
  {
    key: 'strict',
    flag: 'strict',
    env: 'EMULATOR_STRICT',
    type: 'boolean',
    default: true,
    negatedBy: 'lenient',
    help: 'refuse what the real vendor refuses (unknown fields, wrong types); --lenient accepts what it can and records a journal warning',
  },
  {
    key: 'validateResponses',
    flag: 'validate-responses',
    env: 'EMULATOR_VALIDATE_RESPONSES',
    type: 'boolean',
    default: false,
    help: 'check every vendor response against its OpenAPI schema; a violation is logged and answered as a 500 naming it',
  },
  {
    key: 'coverage',
    flag: 'coverage',
    env: 'EMULATOR_COVERAGE',
    type: 'boolean',
    default: true,
    negatedBy: 'no-coverage',
    help: 'count which documented operations, bindings, outcomes and parameters requests exercise (GET /_emulator/coverage)',
  },
  {
    key: 'coverageOut',
    flag: 'coverage-out',
    env: 'EMULATOR_COVERAGE_OUT',
    type: 'string',
    default: null,
    help: 'on shutdown, write the coverage report of every session to this file (.md: Markdown, .xml: JUnit, else JSON)',
  },
  {
    key: 'upstream',
    flag: 'upstream',
    env: 'EMULATOR_UPSTREAM',
    type: 'list',
    default: null,
    help: "shadow mode: <vendor>=<base URL> (repeatable); forward that vendor's requests to the real service, answer with its reply, and record how the emulator's own answer differs (GET /_emulator/drift)",
  },
  {
    key: 'upstreamTimeout',
    flag: 'upstream-timeout',
    env: 'EMULATOR_UPSTREAM_TIMEOUT',
    type: 'integer',
    default: 10_000,
    min: 100,
    help: "milliseconds to wait for an --upstream answer before answering with the emulator's own (recorded as an upstream timeout)",
  },
  {
    key: 'requestTimeout',
    flag: 'request-timeout',
    env: 'EMULATOR_REQUEST_TIMEOUT',
    type: 'integer',
    default: 30_000,
    min: 100,
    help: 'milliseconds a client may take to send a whole request before the connection is cut',
  },
  {
    key: 'jwtTtl',
    flag: 'jwt-ttl',
    env: 'EMULATOR_JWT_TTL',
    type: 'integer',
    default: 3600,
    min: 1,
    help: 'lifetime of RackCorp session JWTs, in seconds',
  },
];

export function allOptionSpecs(): OptionSpec[] {
  return [...coreOptionSpecs, ...vendorOptionSpecs()];
}

export class ConfigError extends Error {}

function convert(spec: OptionSpec, raw: string, source: string): string | number | boolean | string[] {
  if (spec.type === 'list')
    return raw
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
  if (spec.type === 'boolean') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`${source}: expected true or false, got "${raw}"`);
  }
  if (spec.type === 'integer') {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${source}: expected a whole number, got "${raw}"`);
    const n = Number(raw);
    if (spec.min !== undefined && n < spec.min) throw new ConfigError(`${source}: must be at least ${spec.min}`);
    if (spec.max !== undefined && n > spec.max) throw new ConfigError(`${source}: must be at most ${spec.max}`);
    return n;
  }
  if (spec.choices && !spec.choices.includes(raw)) {
    throw new ConfigError(`${source}: must be one of ${spec.choices.join(', ')}`);
  }
  return raw;
}

/** Defaults for every option, as a Config. */
export function defaultConfig(): Config {
  const out: Record<string, unknown> = {};
  for (const spec of allOptionSpecs()) out[spec.key] = spec.default;
  return out as Config;
}

/** Defaults overlaid with what a caller of `buildApp` / `startEmulator` passed. */
export function resolveConfig(overrides: Partial<Config> = {}): Config {
  const cfg = defaultConfig();
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) cfg[k] = v;
  return cfg;
}

export interface ParsedArgs {
  config: Config;
  help: boolean;
}

/** Flags win over environment variables, which win over defaults. */
export function parseArgs(argv: string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const specs = allOptionSpecs();
  const cfg = defaultConfig();
  for (const spec of specs) {
    const raw = env[spec.env];
    if (raw !== undefined && raw !== '') cfg[spec.key] = convert(spec, raw, spec.env);
  }
  let help = false;
  const listFromFlags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}" (see --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const negated = specs.find((s) => s.negatedBy === name);
    if (negated) {
      cfg[negated.key] = false;
      continue;
    }
    const spec = specs.find((s) => s.flag === name);
    if (!spec) throw new ConfigError(`unknown option --${name} (see --help)`);
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      if (spec.type === 'boolean') {
        cfg[spec.key] = true;
        continue;
      }
      value = argv[++i];
      if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    }
    if (spec.type === 'list') {
      // Repeated flags add up; flags replace what the environment gave.
      const prev = listFromFlags.has(spec.key) ? (cfg[spec.key] as string[]) : [];
      listFromFlags.add(spec.key);
      cfg[spec.key] = [...prev, value];
      continue;
    }
    cfg[spec.key] = convert(spec, value, `--${name}`);
  }
  return { config: cfg, help };
}

export function helpText(): string {
  const lines = [
    'Usage: vendor-api-emulator [options]',
    '',
    'Serves the RackCorp, Rackspace Email & Apps, NeuCRM and UniPay customer APIs on one port.',
    '',
    'Options (flag / environment variable, default):',
  ];
  for (const spec of allOptionSpecs()) {
    const flag = `--${spec.flag}${spec.type === 'boolean' ? '' : ' <value>'}`;
    const neg = spec.negatedBy ? ` | --${spec.negatedBy}` : '';
    const def = spec.default === null ? 'unset' : spec.key === 'fixtures' ? './fixtures' : String(spec.default);
    lines.push(`  ${(flag + neg).padEnd(34)} ${spec.env.padEnd(28)} ${spec.help} (default: ${def})`);
  }
  lines.push('  --help, -h                         print this help');
  return lines.join('\n');
}
