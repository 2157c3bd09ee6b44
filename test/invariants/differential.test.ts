import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type PolicyDocument } from '../../src/index';
import { streamArb, type Stream } from '../arbitraries/events';
import { budget, processStream } from '../arbitraries/harness';
import { domainOf, loadCached, readShippedPolicy, variantPolicyArb } from '../arbitraries/policies';

// The compiled evaluator (the default) and json-rules-engine itself (the reference) must give identical
// decisions and states on every stream, for every shipped policy and for generated policy shapes.

async function checkSame(doc: PolicyDocument, stream: Stream) {
  const policy = loadCached(doc);
  const compiled = await processStream(createEngine(policy), stream);
  const reference = await processStream(createEngine(policy, { evaluator: 'json-rules-engine' }), stream);
  expect(compiled.steps.map((s) => s.decision)).toEqual(reference.steps.map((s) => s.decision));
  expect(Object.fromEntries(compiled.states)).toEqual(Object.fromEntries(reference.states));
}

const SHIPPED_POLICIES = readdirSync(new URL('../../rules/', import.meta.url))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length));

describe('compiled evaluator = json-rules-engine', () => {
  for (const name of SHIPPED_POLICIES) {
    it(`gives identical decisions and states under '${name}'`, async () => {
      const doc = readShippedPolicy(name);
      await fc.assert(
        fc.asyncProperty(streamArb(domainOf(doc)), (stream) => checkSame(doc, stream)),
        budget(40),
      );
    });
  }

  it('gives identical decisions and states under generated policy shapes', async () => {
    await fc.assert(
      fc.asyncProperty(
        variantPolicyArb.chain((doc) => streamArb(domainOf(doc)).map((stream) => ({ doc, stream }))),
        ({ doc, stream }) => checkSame(doc, stream),
      ),
      budget(40),
    );
  });
});
