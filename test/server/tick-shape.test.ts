import { describe, expect, it } from 'vitest';
import { makeApp } from '../helpers.js';
import { keptTickEntry } from '../../src/server/tick-shape.js';

// What src/server/tick-shape.ts relies on: inside a process.nextTick callback,
// executionAsyncResource() is the entry nextTick made (the object whose maps must stay alive).
describe('the kept process.nextTick entry', () => {
  it('is one of nextTick’s entries once an app is built, and stays the same one', async () => {
    const app = await makeApp();
    try {
      await new Promise((resolve) => process.nextTick(resolve));
      const entry = keptTickEntry();
      expect(entry).not.toBeNull();
      expect(Object.getOwnPropertySymbols(entry).map(String)).toEqual([
        'Symbol(async_id_symbol)',
        'Symbol(trigger_async_id_symbol)',
      ]);
      expect(Object.keys(entry!)).toEqual(['callback', 'args']);
      const other = await makeApp();
      await other.close();
      expect(keptTickEntry()).toBe(entry);
    } finally {
      await app.close();
    }
  });
});
