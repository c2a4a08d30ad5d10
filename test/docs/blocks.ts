/**
 * The fenced code blocks of README.md and docs/*.md, and how each is run by examples.test.ts.
 * The conventions are documented for writers in docs/index.md ("How the examples are tested").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Runner = 'sh' | 'ts' | 'python';

/** Info-string languages whose blocks are run, and by what. */
export const RUNNERS: Record<string, Runner> = {
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
  curl: 'sh',
  ts: 'ts',
  typescript: 'ts',
  python: 'python',
  py: 'python',
};

/**
 * Why a runnable block may be left out (`no-test=<reason>`), and where what it shows is tested
 * instead. A reason not listed here fails the suite, so nothing is left out by a typo.
 */
export const NO_TEST_REASONS: Record<string, string> = {
  docker: '.ci/docker-smoke builds the Dockerfile and runs the image (podman)',
  quickstart: '.ci/run runs npm ci and npm test on a fresh clone; the server start is tested by test/server',
  package: '.ci/pack-check installs the packed package into a new project, compiles against it and starts its bin',
  release: 'runs only in .github/workflows/release.yml on a version tag (this machine cannot publish)',
  pytest: 'clients/python/tests/test_plugin.py runs the pytest plugin the same way, under pytester (.ci/python-client)',
  upstream:
    'reaches a real vendor, which these machines cannot; test/contract-testing/drift.test.ts runs shadow mode against a stand-in upstream on loopback',
};

/** Flags a block's info string may carry after the language. */
export const FLAGS = new Set(['no-test', 'lenient', 'own-server', 'continues']);

export interface Block {
  file: string; // relative to the repository root
  line: number; // 1-based line of the opening fence
  lang: string;
  flags: Map<string, string | true>;
  code: string;
}

export function extractBlocks(markdown: string, file: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const words = info.trim().split(/\s+/).filter(Boolean);
    const lang = (words.shift() ?? '').toLowerCase();
    const flags = new Map<string, string | true>();
    for (const w of words) {
      const eq = w.indexOf('=');
      flags.set(eq < 0 ? w : w.slice(0, eq), eq < 0 ? true : w.slice(eq + 1));
    }
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      if (lines[j].trim().startsWith(fence[0].repeat(fence.length)) && lines[j].trim().replace(/[`~]/g, '') === '')
        break;
      body.push(indent && lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    blocks.push({ file, line: i + 1, lang, flags, code: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** README.md and every page of docs/. */
export function documentationFiles(root: string): string[] {
  return [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
  ];
}

export function allBlocks(root: string): Block[] {
  return documentationFiles(root).flatMap((f) => extractBlocks(readFileSync(join(root, f), 'utf8'), f));
}

/** What separates the output of one expectation's commands from the next one's. */
export const MARK = '\u001eDOC-EXAMPLE\u001e';

/**
 * Splits a block into the script to run and its expectations. An expectation is a comment line
 * `# => text` (`// => text` in TypeScript); consecutive ones form one multi-line expectation. Each
 * is replaced by a statement printing MARK, so the output between two marks is what the commands
 * between two expectations printed.
 */
export function instrument(code: string, runner: Runner): { script: string; expectations: string[] } {
  const prefix = runner === 'ts' ? '//' : '#';
  const re = new RegExp(`^(\\s*)${prefix.replace(/\//g, '\\/')} => ?(.*)$`);
  const out: string[] = [];
  const expectations: string[] = [];
  let current: string[] | null = null;
  for (const line of code.split('\n')) {
    const m = re.exec(line);
    if (m) {
      if (!current) {
        current = [];
        expectations.push('');
        const mark = JSON.stringify(`\n${MARK}\n`);
        out.push(
          m[1] +
            (runner === 'sh'
              ? `printf '\\n\\036DOC-EXAMPLE\\036\\n'`
              : runner === 'ts'
                ? `process.stdout.write(${mark});`
                : `__import__('sys').stdout.write(${mark}); __import__('sys').stdout.flush()`),
        );
      }
      current.push(m[2]);
      expectations[expectations.length - 1] = current.join('\n');
    } else {
      current = null;
      out.push(line);
    }
  }
  return { script: out.join('\n'), expectations };
}

/** `...` stands for any text; everything else must match literally, surrounding white space aside. */
export function matches(expected: string, actual: string): boolean {
  const parts = expected
    .trim()
    .split('...')
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('[\\s\\S]*')}$`).test(actual.trim());
}

/** The output of a run, cut at the marks: one piece per expectation, plus what came after the last. */
export function splitOutput(stdout: string): string[] {
  return stdout.split(`\n${MARK}\n`);
}
