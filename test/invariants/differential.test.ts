import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type PolicyDocument } from '../../src/index';
import { streamArb, type Stream, variantStreamArb } from '../arbitraries/events';
import { budget, processStream, viaJson } from '../arbitraries/harness';
import { domainOf, loadCached, readShippedPolicy } from '../arbitraries/policies';

// The default engine (compiled conditions, no copy in `run`, reconciliation skipped while no rule's
// result changes) and the reference (json-rules-engine on every group of every event, a full copy of the
// state per event) must give identical decisions and states on every stream, for every shipped policy and
// for generated policy shapes: through `process`, through `run`, and through `run` resumed from stored
// states halfway.

async function checkSame(doc: PolicyDocument, stream: Stream, split: number) {
  const policy = loadCached(doc);
  const fast = createEngine(policy);
  const reference = createEngine(policy, { evaluator: 'json-rules-engine' });

  // process, event by event.
  const a = await processStream(fast, stream);
  const b = await processStream(reference, stream);
  expect(a.steps.map((s) => s.decision)).toEqual(b.steps.map((s) => s.decision));
  expect(Object.fromEntries(a.states)).toEqual(Object.fromEntries(b.states));

  // run over the whole stream.
  const whole = await reference.run(stream.events, stream.profiles);
  expect(await fast.run(stream.events, stream.profiles)).toEqual(whole);

  // run over the first part, then over the rest from its states: as returned (kept in memory), and as
  // read back from storage; then process continuing from run's states. (Paths in the issues of a batch
  // count from its own first event, so the second half is compared with the reference's second half.)
  const cut = Math.floor(split * stream.events.length);
  const first = await fast.run(stream.events.slice(0, cut), stream.profiles);
  const referenceFirst = await reference.run(stream.events.slice(0, cut), stream.profiles);
  expect(first).toEqual(referenceFirst);
  const referenceRest = await reference.run(stream.events.slice(cut), stream.profiles, referenceFirst.states);
  expect(referenceRest.states).toEqual(whole.states);
  for (const from of [first.states, viaJson(first.states)]) {
    const rest = await fast.run(stream.events.slice(cut), stream.profiles, from);
    expect(rest).toEqual(referenceRest);
  }
  const resumed = await processStream(fast, stream, {
    from: new Map(Object.entries(first.states)),
    start: cut,
  });
  const fromHost = await processStream(reference, stream, {
    from: new Map(Object.entries(referenceFirst.states)),
    start: cut,
  });
  expect(resumed.steps.map((s) => s.decision)).toEqual(fromHost.steps.map((s) => s.decision));
}

const splitArb = fc.double({ min: 0, max: 1, noNaN: true });

const SHIPPED_POLICIES = readdirSync(new URL('../../rules/', import.meta.url))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length));

describe('the default engine = the reference (json-rules-engine, no shortcut)', () => {
  for (const name of SHIPPED_POLICIES) {
    it(`gives identical decisions and states under '${name}'`, async () => {
      const doc = readShippedPolicy(name);
      await fc.assert(
        fc.asyncProperty(streamArb(domainOf(doc)), splitArb, (stream, split) =>
          checkSame(doc, stream, split),
        ),
        budget(40),
      );
    });
  }

  it('gives identical decisions and states under generated policy shapes', async () => {
    await fc.assert(
      fc.asyncProperty(variantStreamArb(), splitArb, ({ doc, stream }, split) =>
        checkSame(doc, stream, split),
      ),
      budget(40),
    );
  });
});
