/**
 * Every command and request example of README.md and docs/ runs here, against a started emulator
 * (the real CLI), and answers what the text beside it says. The conventions (expectations, flags,
 * `no-test=<reason>`) are in docs/index.md, "How the examples are tested"; blocks.ts reads them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
  readFileSync,
  existsSync,
} from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  allBlocks,
  documentationFiles,
  FLAGS,
  instrument,
  matches,
  NO_TEST_REASONS,
  RUNNERS,
  splitOutput,
  type Block,
  type Runner,
} from './blocks.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const blocks = allBlocks(root);
const where = (b: Block) => `${b.file}:${b.line}`;

/** Runnable blocks grouped into chains: a `continues` block runs after the one before it, in one script. */
function chains(): Block[][] {
  const out: Block[][] = [];
  for (const b of blocks) {
    if (!RUNNERS[b.lang] || b.flags.has('no-test')) continue;
    if (b.flags.has('continues')) out[out.length - 1].push(b);
    else out.push([b]);
  }
  return out;
}

describe('documentation blocks follow the conventions', () => {
  it('every flag is known, every no-test names a known reason, every continues follows a runnable block of its kind', () => {
    const problems: string[] = [];
    let previous: Block | undefined;
    for (const b of blocks) {
      const runner = RUNNERS[b.lang];
      for (const f of b.flags.keys()) if (!FLAGS.has(f)) problems.push(`${where(b)}: unknown flag ${f}`);
      if (b.flags.size && !runner)
        problems.push(`${where(b)}: flags on a ${b.lang || 'plain'} block, which is never run`);
      const reason = b.flags.get('no-test');
      if (reason !== undefined && (reason === true || !NO_TEST_REASONS[reason]))
        problems.push(`${where(b)}: no-test needs one of ${Object.keys(NO_TEST_REASONS).join(', ')}`);
      if (b.flags.has('continues') && (!previous || previous.file !== b.file || RUNNERS[previous.lang] !== runner))
        problems.push(`${where(b)}: continues, but no runnable ${b.lang} block comes before it on the page`);
      if (runner && !b.flags.has('no-test')) previous = b;
    }
    expect(problems).toEqual([]);
  });

  it('relative links point at files that exist, and their #anchors at headings of those files', () => {
    const slug = (h: string) =>
      h
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-');
    const anchors = (file: string) => {
      const text = readFileSync(path.join(root, file), 'utf8').replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
      const seen = new Map<string, number>();
      return new Set(
        [...text.matchAll(/^#{1,6} (.*)$/gm)].map((m) => {
          const s = slug(m[1]);
          const n = seen.get(s) ?? 0;
          seen.set(s, n + 1);
          return n ? `${s}-${n}` : s;
        }),
      );
    };
    const problems: string[] = [];
    for (const file of [...documentationFiles(root), 'bench/README.md']) {
      const text = readFileSync(path.join(root, file), 'utf8').replace(/^(```|~~~)[\s\S]*?^\1/gm, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [p, anchor] = target.split('#');
        const file2 = p ? path.posix.normalize(path.posix.join(path.posix.dirname(file), p)) : file;
        if (!existsSync(path.join(root, file2))) {
          problems.push(`${file}: ${target}: no file ${file2}`);
          continue;
        }
        if (anchor && file2.endsWith('.md') && !anchors(file2).has(anchor))
          problems.push(`${file}: ${target}: no heading #${anchor} in ${file2}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the checker itself: a wrong expectation fails, a right one passes, uncovered output shows', () => {
    const { script, expectations } = instrument('echo a\n# => a\necho b c\n# => b ...\n# => d\necho e', 'sh');
    expect(expectations).toEqual(['a', 'b ...\nd']);
    expect(script).not.toContain('# =>');
    expect(matches('{"code":"OK",...}', '{"code":"OK","id":1}')).toBe(true);
    expect(matches('{"code":"OK",...}', '{"code":"FAULT","id":1}')).toBe(false);
    expect(matches('b ...\nd', 'b c\nd\n')).toBe(true);
    expect(matches('a', 'a b')).toBe(false);
    expect(splitOutput('a\n\u001eDOC-EXAMPLE\u001e\nrest')).toEqual(['a', 'rest']);
  });
});

// ---------------------------------------------------------------------------------------------

interface Emulator {
  proc: ChildProcess;
  url: string;
}

function startCli(args: string[]): Promise<Emulator> {
  const proc = spawn(
    process.execPath,
    [path.join(root, 'dist/server/cli.js'), '--port', '0', '--log-level', 'silent', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no start line: ${out}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, url: m[1] });
      }
    });
    proc.on('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.on('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}

/** The state each example starts from: the fixtures, no sessions, no snapshots. */
async function clean(url: string): Promise<void> {
  const call = async (method: string, p: string) => {
    const res = await fetch(url + p, { method });
    if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<any>;
  };
  for (const s of (await call('GET', '/_emulator/sessions')).sessions)
    await call('DELETE', `/_emulator/sessions/${encodeURIComponent(s.id)}`);
  for (const s of (await call('GET', '/_emulator/snapshots')).snapshots)
    await call('DELETE', `/_emulator/snapshots/${encodeURIComponent(s.name)}`);
  await call('POST', '/_emulator/reset');
}

/**
 * Runs one example in its own process group. When the example's own process exits, `atExit` looks
 * at what it left behind (a server still listening); then the whole group is killed.
 */
function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  atExit: () => Promise<string[]>,
): Promise<{ code: number | null; stdout: string; stderr: string; leftovers: string[] }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '',
      code: number | null = null,
      leftovers: string[] = [];
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* nothing left */
      }
    };
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      stderr += `\n(timed out after ${timeoutMs} ms)`;
      killGroup();
    }, timeoutMs);
    const exited = new Promise<void>((done) =>
      child.on('exit', async (c) => {
        code = c;
        clearTimeout(timer);
        leftovers = await atExit();
        killGroup();
        done();
      }),
    );
    const closed = new Promise<void>((done) => child.on('close', () => done()));
    void Promise.all([exited, closed]).then(() => resolve({ code, stdout, stderr, leftovers }));
  });
}

describe('documentation examples answer as the text says', () => {
  let strict: Emulator, lenient: Emulator, work: string;

  beforeAll(async () => {
    for (const tool of ['bash', 'curl', 'jq', 'openssl', 'python3']) {
      const found = spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
      if (!found) throw new Error(`the documentation examples need ${tool} on PATH (.ci/run installs jq with apt-get)`);
    }
    [strict, lenient] = await Promise.all([
      startCli(['--validate-responses']),
      startCli(['--validate-responses', '--lenient']),
    ]);
    // A folder where the package is installed as a user would have it: `import 'vendor-api-emulator'`,
    // `npx vendor-api-emulator`, and, as in a clone, `node dist/server/cli.js`.
    work = mkdtempSync(path.join(tmpdir(), 'doc-examples-'));
    mkdirSync(path.join(work, 'node_modules/.bin'), { recursive: true });
    symlinkSync(root, path.join(work, 'node_modules/vendor-api-emulator'));
    const bin = path.join(work, 'node_modules/.bin/vendor-api-emulator');
    writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'dist/server/cli.js')}" "$@"\n`);
    chmodSync(bin, 0o755);
    symlinkSync(path.join(root, 'dist'), path.join(work, 'dist'));
    symlinkSync(path.join(root, 'fixtures'), path.join(work, 'fixtures'));
    writeFileSync(path.join(work, 'package.json'), '{"name":"doc-examples","private":true,"type":"module"}\n');
  }, 60_000);

  afterAll(() => {
    strict?.proc.kill('SIGTERM');
    lenient?.proc.kill('SIGTERM');
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const chain of chains()) {
    const first = chain[0];
    const runner = RUNNERS[first.lang] as Runner;
    const title = `${where(first)} (${first.lang}${chain.length > 1 ? `, +${chain.length - 1} continuing` : ''}${[...first.flags.keys()].map((f) => ` ${f}`).join('')})`;
    it(
      title,
      async () => {
        const ownServer = first.flags.has('own-server');
        const emu = first.flags.has('lenient') ? lenient : strict;
        if (!ownServer) await clean(emu.url);
        const ports = new Map<string, number>();
        const portFor = async (p: string) => {
          if (!ports.has(p)) ports.set(p, await freePort());
          return ports.get(p)!;
        };
        let code = chain.map((b) => b.code).join('\n');
        for (const p of new Set(code.match(ownServer ? /\b808\d\b/g : /\b808[1-9]\b/g) ?? []))
          code = code.replace(new RegExp(`\\b${p}\\b`, 'g'), String(await portFor(p)));
        if (!ownServer) code = code.replace(/\b(127\.0\.0\.1|localhost):8080\b/g, emu.url.replace(/^http:\/\//, ''));
        const { script, expectations } = instrument(code, runner);

        // Each example runs in a folder of its own, laid out like the work folder.
        const dir = mkdtempSync(path.join(work, 'run-'));
        for (const f of ['node_modules', 'dist', 'fixtures', 'package.json'])
          symlinkSync(path.join(work, f), path.join(dir, f));
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          PATH: `${path.join(work, 'node_modules/.bin')}:${process.env.PATH}`,
          PYTHONPATH: path.join(root, 'clients/python/src'),
          NO_COLOR: '1',
        };
        delete env.NODE_OPTIONS;
        const atExit = async () => {
          const left: string[] = [];
          for (const [p, port] of ports) if (await listening(port)) left.push(p);
          return left;
        };
        let result;
        if (runner === 'sh') {
          writeFileSync(path.join(dir, 'example.sh'), `set -euo pipefail\n${script}\n`);
          result = await run('bash', ['example.sh'], dir, env, 60_000, atExit);
        } else if (runner === 'ts') {
          const js = await transform(script, { loader: 'ts', format: 'esm', target: 'node20' });
          writeFileSync(path.join(dir, 'example.mjs'), js.code);
          result = await run(process.execPath, ['example.mjs'], dir, env, 60_000, atExit);
        } else {
          writeFileSync(path.join(dir, 'example.py'), script);
          result = await run('python3', ['example.py'], dir, env, 60_000, atExit);
        }
        const context = `\n--- script\n${script}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
        expect(result.code, `exit status${context}`).toBe(0);
        const pieces = splitOutput(result.stdout);
        expect(pieces.length, `one output per expectation${context}`).toBe(expectations.length + 1);
        expectations.forEach((e, i) => {
          expect(
            matches(e, pieces[i]),
            `expectation ${i + 1} of ${expectations.length}:\n${e}\n--- printed\n${pieces[i]}${context}`,
          ).toBe(true);
        });
        expect(
          pieces[expectations.length].trim(),
          `output after the last expectation is not described by the text${context}`,
        ).toBe('');
        expect(result.leftovers, `servers the example started and left running (ports as written)${context}`).toEqual(
          [],
        );
      },
      90_000,
    );
  }
});
