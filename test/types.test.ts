import { describe, expectTypeOf, it } from 'vitest';
import type {
  Action,
  BatchResult,
  Decision,
  Explanation,
  Issue,
  Policy,
  PolicyReport,
  SpendEvent,
  SpendcapEngine,
  SubscriberProfile,
  SubscriberState,
  UnblockCause,
} from '../src/index';
import { checkPolicy, createEngine, loadPolicy } from '../src/index';

describe('public API types', () => {
  it('loadPolicy / checkPolicy / createEngine', () => {
    expectTypeOf(loadPolicy).parameter(0).toEqualTypeOf<unknown>();
    expectTypeOf(loadPolicy).returns.toEqualTypeOf<Policy>();
    expectTypeOf(checkPolicy).returns.toEqualTypeOf<PolicyReport>();
    expectTypeOf<PolicyReport['issues']>().toEqualTypeOf<readonly Issue[]>();
    expectTypeOf(createEngine).returns.toEqualTypeOf<SpendcapEngine>();
  });

  it('engine methods', () => {
    expectTypeOf<SpendcapEngine['init']>().parameter(0).toEqualTypeOf<SubscriberProfile>();
    expectTypeOf<SpendcapEngine['init']>().returns.toEqualTypeOf<SubscriberState>();
    expectTypeOf<SpendcapEngine['process']>().returns.toEqualTypeOf<Promise<Decision>>();
    expectTypeOf<SpendcapEngine['run']>().returns.toEqualTypeOf<Promise<BatchResult>>();
    expectTypeOf<SpendcapEngine['explain']>().returns.toEqualTypeOf<Explanation>();
  });

  it('unions are discriminated', () => {
    expectTypeOf<Decision['outcome']>().toEqualTypeOf<'applied' | 'late' | 'duplicate' | 'rejected'>();
    expectTypeOf<Action['kind']>().toEqualTypeOf<
      'notify' | 'block' | 'throttle' | 'unblock' | 'offerPayment' | 'careNote'
    >();
    expectTypeOf<SpendEvent['type']>().toEqualTypeOf<
      'usage' | 'location' | 'payment' | 'adjustment' | 'dispute' | 'override' | 'tick'
    >();
    expectTypeOf<Extract<Action, { kind: 'unblock' }>['cause']>().toEqualTypeOf<UnblockCause>();
    expectTypeOf<UnblockCause>().toEqualTypeOf<
      'payment' | 'left-zone' | 'window-reset' | 'override' | 'credit' | 'dispute' | 'rule-cleared'
    >();
    expectTypeOf<Extract<Decision, { outcome: 'rejected' }>['issues']>().toEqualTypeOf<readonly Issue[]>();
  });

  it('a state is plain data', () => {
    expectTypeOf<SubscriberState['version']>().toEqualTypeOf<2>();
    expectTypeOf<SubscriberState['clock']>().toEqualTypeOf<number | null>();
  });
});
