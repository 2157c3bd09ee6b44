import type fc from 'fast-check';
import type { PolicyDocument } from '../../src/index';
import { streamArb, type Stream, type StreamOptions } from '../../src/testing/events';
import { domainOf, variantPolicyArb } from './policies';

// The generators are the library's own (`spendcap/testing`); the variant policies are the tests'.
export * from '../../src/testing/events';

/** A generated variant policy with a stream shaped by its services, zones and caps. */
export function variantStreamArb(
  options: StreamOptions = {},
): fc.Arbitrary<{ doc: PolicyDocument; stream: Stream }> {
  return variantPolicyArb.chain((doc) =>
    streamArb(domainOf(doc), options).map((stream) => ({ doc, stream })),
  );
}
