/**
 * `spendcap/testing`: fast-check arbitraries for profiles and event streams shaped by a policy, and
 * `checkInvariants`, which runs SPEC section 8's invariants against any policy. Needs `fast-check`
 * (a peer dependency of this entry only).
 *
 * @example
 * import { checkInvariants } from 'spendcap/testing';
 * await checkInvariants(policyJson, { numRuns: 100, seed: 42 });
 */
import fc from 'fast-check';
import { loadPolicy } from '../policy/check.js';
import type { Policy } from '../policy/types.js';
import type { PolicyDocument } from '../schema/policy.js';
import { domainOf } from './domain.js';
import { buildStream, planArb, type Stream, type StreamOptions } from './events.js';

export {
  checkInvariants,
  DEFAULT_INVARIANTS,
  INVARIANTS,
  InvariantViolation,
  type CheckInvariantsOptions,
  type InvariantName,
  type InvariantReport,
  type InvariantResult,
} from './invariants.js';
export { profileArb, profilesArb } from './profiles.js';
export { interleave, type Label, type LabelKind, type Stream, type StreamOptions } from './events.js';
export { domainOf, type Domain } from './domain.js';

/**
 * Multi-subscriber event streams shaped by a policy: its currency, services and caps; trips through its
 * zones' countries and beyond; usage scaled to its smallest cost cap so that thresholds are crossed;
 * payments, adjustments, disputes (open, then upheld or rejected), overrides, ticks, and late, duplicate
 * and invalid records, each labelled with what it was meant to be.
 *
 * @example
 * fc.assert(fc.asyncProperty(eventStreamArb(policy), async ({ profiles, events }) => { ... }));
 */
export function eventStreamArb(policy: Policy | unknown, options: StreamOptions = {}): fc.Arbitrary<Stream> {
  const loaded =
    policy !== null && typeof policy === 'object' && (policy as Policy).kind === 'spendcap.policy'
      ? (policy as Policy)
      : loadPolicy(policy);
  const domain = domainOf(loaded.document as PolicyDocument, { scaleToLimits: true });
  return planArb(options).map((plan) => buildStream(domain, plan, options));
}
