// The emulator as a Testcontainers GenericContainer, for Node's built-in test runner:
//   EMULATOR_IMAGE=ghcr.io/<owner>/vendor-api-emulator:<version> npm test
// Testcontainers starts the image, maps its port 8080 to a free host port and waits until
// GET /_emulator/health answers 200; each test then works in its own session.
// With podman instead of Docker: DOCKER_HOST=unix:///run/podman/podman.sock (podman system service)
// and TESTCONTAINERS_RYUK_DISABLED=true (see docs/deploy.md).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { GenericContainer, Wait } from 'testcontainers';

const IMAGE = process.env.EMULATOR_IMAGE ?? 'vendor-api-emulator:local';
const TOKEN = 'testcontainers-token';
// The RackCorp sandbox API key the fixtures hold (docs: sandbox credentials).
const RACKCORP = { APIUUID: '11111111-2222-4333-8444-555555555555', APISECRET: 'rackcorp-sandbox-secret' };

let container;
let base;

before(async () => {
  container = await new GenericContainer(IMAGE)
    .withExposedPorts(8080)
    .withEnvironment({ EMULATOR_CONTROL_TOKEN: TOKEN, EMULATOR_SESSION_MODE: 'explicit' })
    .withWaitStrategy(Wait.forHttp('/_emulator/health', 8080).forStatusCode(200))
    .withStartupTimeout(60_000)
    .start();
  base = `http://${container.getHost()}:${container.getMappedPort(8080)}`;
});

after(async () => {
  await container?.stop();
});

/** A fresh session for one test: made explicitly, deleted afterwards. */
async function session() {
  const id = `t-${randomUUID()}`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const made = await fetch(`${base}/_emulator/sessions?session=${id}`, { method: 'POST', headers: auth });
  assert.equal(made.status, 201);
  return {
    id,
    rackcorp: async (cmd, params = {}) => {
      const res = await fetch(`${base}/_sessions/${id}/api/rest/v2.9/json.php`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cmd, ...RACKCORP, ...params }),
      });
      return { status: res.status, body: await res.json() };
    },
    journal: async () =>
      (await (await fetch(`${base}/_emulator/requests?session=${id}`, { headers: auth })).json()).requests,
    delete: () => fetch(`${base}/_emulator/sessions/${id}`, { method: 'DELETE', headers: auth }),
  };
}

test('the health check the wait strategy used answers ok', async () => {
  const health = await (await fetch(`${base}/_emulator/health`)).json();
  assert.equal(health.status, 'ok');
});

test('a vendor call in a session, and its journal entry', async () => {
  const s = await session();
  try {
    const got = await s.rackcorp('customer.get', { id: 1 });
    assert.equal(got.status, 200);
    assert.equal(got.body.code, 'OK');
    const journal = await s.journal();
    assert.deepEqual(
      journal.map((e) => e.operation),
      ['customer.get'],
    );
  } finally {
    await s.delete();
  }
});

test('a session that was never made is refused with a 404 naming it', async () => {
  const res = await fetch(`${base}/_sessions/never-made/api/rest/v2.9/json.php`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cmd: 'customer.get', id: 1, ...RACKCORP }),
  });
  assert.equal(res.status, 404);
  assert.match((await res.json()).message, /Unknown session "never-made"/);
});
