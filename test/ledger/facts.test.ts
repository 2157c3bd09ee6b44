import { describe, expect, it } from 'vitest';
import { SUBSCRIBER_FACTS, copySubscriberFacts, type SubscriberFacts } from '../../src/ledger/facts';

describe('copySubscriberFacts', () => {
  it('copies every subscriber fact and nothing else', () => {
    const from = Object.fromEntries(SUBSCRIBER_FACTS.map((name, i) => [name, `value ${i}`]));
    const to = { spend: 7, limit: 9 } as unknown as SubscriberFacts;
    copySubscriberFacts(from as unknown as SubscriberFacts, to);
    expect(to).toEqual({ ...from, spend: 7, limit: 9 });
  });
});
