import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/index';
import { cloneState } from '../../src/decide/clone';
import { streamArb } from '../arbitraries/events';
import { SHIPPED, SHIPPED_DOMAIN } from '../arbitraries/policies';
import { processStream } from '../arbitraries/harness';

describe('cloneState', () => {
  it('equals structuredClone on every state of generated streams, and shares nothing with the original', async () => {
    const engine = createEngine(SHIPPED);
    await fc.assert(
      fc.asyncProperty(streamArb(SHIPPED_DOMAIN), async (stream) => {
        const { steps } = await processStream(engine, stream);
        for (const { decision } of steps) {
          const state = decision.state;
          const copy = cloneState(state);
          expect(copy).toStrictEqual(structuredClone(state));
          expect(JSON.stringify(copy)).toBe(JSON.stringify(state));
          // Nothing shared: change every object of the copy and the original stays as it was.
          const before = JSON.stringify(state);
          const visit = (node: unknown) => {
            if (node === null || typeof node !== 'object') return;
            for (const key of Object.keys(node)) {
              const value = (node as Record<string, unknown>)[key];
              if (value !== null && typeof value === 'object') visit(value);
              else (node as Record<string, unknown>)[key] = 'changed';
            }
          };
          visit(copy);
          expect(JSON.stringify(state)).toBe(before);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('keeps a key such as __proto__ an ordinary entry, and copies the applied ids', () => {
    const engine = createEngine(SHIPPED);
    const state = engine.init({
      subscriberId: 's1',
      homeCountry: 'PL',
      timeZone: 'Europe/Warsaw',
      cycleAnchorDay: 1,
    });
    const stored = JSON.parse(
      JSON.stringify(state)
        .replace(
          '"disputes":{}',
          '"disputes":{"__proto__":{"amount":5,"status":"open","openedAt":1,"targets":{}}}',
        )
        .replace('"seen":{"ids":[],"at":[]}', '"seen":{"ids":["__proto__","toString"],"at":[5,6]}'),
    );
    const copy = cloneState(stored);
    expect(Object.getPrototypeOf(copy.disputes)).toBe(Object.prototype);
    expect(Object.keys(copy.disputes)).toEqual(['__proto__']);
    expect(copy.seen).toEqual({ ids: ['__proto__', 'toString'], at: [5, 6] });
    expect(copy.seen.ids).not.toBe(stored.seen.ids);
    expect(copy.seen.at).not.toBe(stored.seen.at);
  });
});
