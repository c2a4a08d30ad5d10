import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { startEmulator } from '../../src/server/start.js';

describe('close()', () => {
  it('does not wait forever for a client that keeps a request open: its connection is cut after the grace period', async () => {
    const emu = await startEmulator({ port: 0, logLevel: 'silent' });
    const { port } = new URL(emu.url);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // A request whose body never comes: it stays in flight until the server gives up on it.
    socket.write(
      'POST /api/rest/v2.9/json.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"cmd":',
    );
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise((r) => setTimeout(r, 200));
    await emu.close();
    await ended;
    expect(socket.destroyed).toBe(true);
  }, 30_000);
});
