import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SET_FROM, SeenIds, idHash } from '../../src/ledger/seen';

// SeenIds is the index `run` keeps of a state's applied ids. Whatever the code that changes the list
// does (append and tell it, forget ids and tell it, or change the list without telling it), its answer
// must be the list's own: is the id in `seen.ids`?

type Step =
  { op: 'apply'; id: string; tell: boolean } | { op: 'forget'; keep: number } | { op: 'check'; id: string };

/** Few distinct ids, so repeats and hash-equal neighbours are common; some share their hash. */
const idArb = fc.oneof(
  fc.constantFrom('e1', 'e2', 'e10', 'a', 'b', ''),
  fc.string({ maxLength: 3 }),
  fc.nat({ max: 80 }).map((n) => `e${n}`),
);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('apply' as const), id: idArb, tell: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('forget' as const), keep: fc.nat({ max: 40 }) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('check' as const), id: idArb }) },
);

/** Runs the steps on a list and an index, checking the index against the list after every step. */
function replay(steps: readonly Step[], tellMostly: boolean): void {
  const seen = { ids: [] as string[], at: [] as number[] };
  const index = new SeenIds(seen);
  let t = 0;
  for (const step of steps) {
    if (step.op === 'apply') {
      seen.ids.push(step.id);
      seen.at.push(t++);
      if (tellMostly || step.tell) index.add(step.id);
    } else if (step.op === 'forget') {
      // As forgetIds does: keep the newest `keep`, telling the index of each id dropped.
      const drop = Math.max(0, seen.ids.length - step.keep);
      for (const id of seen.ids.slice(0, drop)) index.delete(id);
      seen.ids.splice(0, drop);
      seen.at.splice(0, drop);
    } else {
      expect(index.has(step.id), `${step.id} in [${seen.ids.join(',')}]`).toBe(seen.ids.includes(step.id));
    }
  }
  for (const id of [...seen.ids, 'never-applied']) expect(index.has(id)).toBe(seen.ids.includes(id));
}

describe('SeenIds', () => {
  it('answers as the list does when every change is told (property)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 120 }), (steps) => replay(steps, true)),
      { numRuns: 300 },
    );
  });

  it('answers as the list does when changes are not told (property)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { maxLength: 120 }), (steps) => replay(steps, false)),
      { numRuns: 300 },
    );
  });

  it('finds an id among many past the point where it keeps a set, and forgets it', () => {
    const seen = { ids: [] as string[], at: [] as number[] };
    const index = new SeenIds(seen);
    for (let i = 0; i < SET_FROM * 3; i++) {
      expect(index.has(`e${i}`)).toBe(false);
      seen.ids.push(`e${i}`);
      seen.at.push(i);
      index.add(`e${i}`);
      expect(index.has(`e${i}`)).toBe(true);
    }
    expect(index.has('e0')).toBe(true);
    index.delete('e0');
    seen.ids.shift();
    seen.at.shift();
    expect(index.has('e0')).toBe(false);
    expect(index.has(`e${SET_FROM * 3 - 1}`)).toBe(true);
  });

  it('compares the ids themselves when their hashes are equal', () => {
    // Two different ids with one hash: a search by hash alone would call the second a repeat.
    const byHash = new Map<number, string>();
    let pair: [string, string] | null = null;
    for (let i = 0; pair === null && i < 1_000_000; i++) {
      const id = i.toString(36);
      const other = byHash.get(idHash(id));
      if (other !== undefined) pair = [other, id];
      else byHash.set(idHash(id), id);
    }
    expect(pair).not.toBeNull();
    const [first, second] = pair!;
    expect(first).not.toBe(second);
    const seen = { ids: [first], at: [0] };
    const index = new SeenIds(seen);
    expect(index.has(first)).toBe(true);
    expect(index.has(second)).toBe(false);
  });

  it('hashes ids the same wherever they come from', () => {
    const id = 'usage-2026-10-10-0001';
    expect(idHash(id)).toBe(idHash(['usage', '2026', '10', '10', '0001'].join('-')));
    expect(idHash('e1')).not.toBe(idHash('e2'));
  });
});
