import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { actionId, hash64 } from '../../src/explain/ids';

/** FNV-1a 64 written the obvious way, with BigInt: the reference for the limb arithmetic. */
function referenceHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}

describe('hash64', () => {
  it('gives the published FNV-1a 64 values', () => {
    // Test vectors of the FNV reference (draft-eastlake-fnv): "", "a", "foobar".
    expect(hash64('')).toBe('cbf29ce484222325');
    expect(hash64('a')).toBe('af63dc4c8601ec8c');
    expect(hash64('foobar')).toBe('85944171f73967e8');
  });

  it('equals the BigInt computation on any string, including astral and lone surrogates', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        expect(hash64(text)).toBe(referenceHash(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('derives action ids from content only', () => {
    const identity = {
      subscriberId: 's1',
      capId: 'bill',
      ruleId: 'block-100',
      window: '2026-11-01',
      kind: 'block',
      causeEventId: 'e9',
    };
    expect(actionId(identity)).toBe(actionId({ ...identity }));
    expect(actionId(identity)).not.toBe(actionId({ ...identity, causeEventId: 'e10' }));
    expect(actionId(identity)).toMatch(/^act_[0-9a-f]{16}$/);
  });
});

describe('actionId', () => {
  // Text of any code units, and text thick with the ones JSON.stringify escapes (quote, backslash,
  // controls, lone surrogates), which a uniform draw almost never gives.
  const escaped = fc.constantFrom(
    'a',
    '"',
    '\\',
    '\n',
    '\u0001',
    '\u001f',
    '\ud800',
    '\udfff',
    'é',
    '\u2028',
  );
  const part = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.string({ unit: escaped, maxLength: 12 }),
  );
  it('is the hash of the JSON array of its parts, for any text in them', () => {
    fc.assert(
      fc.property(
        fc.record({
          subscriberId: part,
          capId: fc.option(part, { nil: null }),
          ruleId: part,
          window: part,
          kind: part,
          scope: fc.option(fc.array(fc.record({ service: part, zone: part }), { maxLength: 3 }), {
            nil: undefined,
          }),
          causeEventId: part,
          template: fc.option(part, { nil: undefined }),
        }),
        (identity) => {
          const scope = identity.scope?.map((p) => `${p.service}@${p.zone}`).join(',') ?? '';
          const json = JSON.stringify([
            identity.subscriberId,
            identity.capId ?? '',
            identity.ruleId,
            identity.window,
            identity.kind,
            scope,
            identity.causeEventId,
            identity.template ?? '',
          ]);
          expect(actionId(identity)).toBe(`act_${referenceHash(json)}`);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
