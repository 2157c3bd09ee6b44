import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createEngine,
  loadPolicy,
  migrateState,
  InputError,
  type Action,
  type SubscriberState,
} from '../src/index';
import { drive, ev, kinds, profile, shippedPolicyJson, SUB } from './support/fixtures';
import { deepFreeze } from './arbitraries/harness';

const T = (day: number, hour = 12) =>
  `2026-11-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00+01:00`;
const of = <K extends Action['kind']>(actions: readonly Action[], kind: K) =>
  actions.filter((a): a is Extract<Action, { kind: K }> => a.kind === kind);

describe('graduated-postpaid: warn, block only roaming data, lift on payment', () => {
  it('warns at 80 % with a payment link, blocks only roaming data at 100 %, lifts in the payment decision', async () => {
    const d = drive();
    await d.send(ev.location(T(2), 'DE'));
    const warn = await d.send(ev.usage(T(2, 13), 'data', 'DE', 16_000));
    expect(kinds(warn)).toEqual(['notify:roaming-data-warn-80']);
    const notify = of(warn.actions, 'notify')[0]!;
    expect(notify.paymentLink).toMatch(
      /^https:\/\/pay\.example\.com\/top-up\?sub=sub-1&amount=16000&ref=act_[0-9a-f]{16}$/,
    );
    expect(notify.paymentLink).toContain(notify.id);
    expect(notify.message).toBe(
      `You have used 80% of your roaming data limit: PLN\u00a0160.00 of PLN\u00a0200.00. Pay now to keep going: ${notify.paymentLink}`,
    );

    const over = await d.send(ev.usage(T(2, 14), 'data', 'DE', 4_500));
    expect(kinds(over)).toEqual([
      'offerPayment:roaming-data-offer-100',
      'careNote:roaming-data-care-100',
      'block:roaming-data-block-100',
      'notify:roaming-data-block-100',
    ]);
    const block = of(over.actions, 'block')[0]!;
    expect(block.scope).toEqual([
      { service: 'data', zone: 'eu' },
      { service: 'data', zone: 'world' },
    ]);
    expect(of(over.actions, 'offerPayment')[0]).toMatchObject({ amount: 20_500, currency: 'PLN' });
    expect(of(over.actions, 'careNote')[0]!.queue).toBe('payments');

    // Calls keep working: a roaming voice call and a domestic data session change nothing.
    expect((await d.send(ev.usage(T(2, 15), 'voice', 'DE', 300))).actions).toEqual([]);
    await d.send(ev.location(T(3), 'PL'));
    expect((await d.send(ev.usage(T(3, 13), 'data', 'PL', 200))).actions).toEqual([]);

    const paid = await d.send(ev.payment(T(4), 600));
    const unblock = of(paid.actions, 'unblock')[0]!;
    expect(unblock).toMatchObject({
      cause: 'payment',
      lifts: 'block',
      scope: block.scope,
      ruleId: 'roaming-data-block-100',
    });
    expect(of(paid.actions, 'notify')[0]!.scope).toEqual(block.scope);
    expect(d.state.restrictions).toEqual([]);
  });

  it('actions of one decision that share a condition explain it alike, each with lists of its own', async () => {
    const d = drive();
    await d.send(ev.location(T(2), 'DE'));
    const over = await d.send(ev.usage(T(2, 14), 'data', 'DE', 20_500));
    const offer = of(over.actions, 'offerPayment')[0]!;
    const care = of(over.actions, 'careNote')[0]!;
    const block = of(over.actions, 'block')[0]!;
    // The offer and the care note name the same condition (usage at 100 % of the roaming data cap);
    // the block adds one (not opted in).
    expect(care.because.conditions).toEqual(offer.because.conditions);
    expect(block.because.conditions.map((c) => c.fact)).toEqual(['usageRatio', 'optedIn']);
    expect(block.because.conditions[0]).toEqual(offer.because.conditions[0]);
    expect(offer.because.conditions[0]).toMatchObject({ fact: 'usageRatio', result: true });
    expect(care.because.text).toContain('because usage is at');
    expect(care.because.text.split('because ')[1]).toBe(offer.because.text.split('because ')[1]);
    // What one action's consumer does to its explanation reaches no other action.
    expect(care.because.conditions).not.toBe(offer.because.conditions);
    expect(care.because.conditions[0]).not.toBe(offer.because.conditions[0]);
    (offer.because.conditions[0] as { result: boolean }).result = false;
    expect(care.because.conditions[0]!.result).toBe(true);
    expect(block.because.conditions[0]!.result).toBe(true);
  });

  it('the payment offered by the restriction notice is exactly the smallest that lifts it', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 21_234));
    const notice = d.state.restrictions[0]!;
    expect(notice.kind).toBe('block');
    // Lifting needs outstanding < 20000, so 1235 paid: 1234 is not enough.
    const link = (await d.engine.explain(d.state)).restrictions[0]!.lift.payment;
    expect(link).toBe(1235);
    const short = await d.send(ev.payment(T(3), 1234));
    expect(of(short.actions, 'unblock')).toEqual([]);
    const enough = await d.send(ev.payment(T(3, 13), 1));
    expect(of(enough.actions, 'unblock')).toHaveLength(1);
  });

  it('the whole-bill cap at 100 % blocks roaming data only, never a home scope', async () => {
    const d = drive();
    const decision = await d.send(ev.usage(T(2), 'voice', 'PL', 150_000));
    const blocks = of(decision.actions, 'block');
    expect(blocks.map((b) => b.ruleId)).toEqual(['bill-block-roaming-data-100']);
    expect(blocks[0]!.scope.every((p) => p.zone !== 'home')).toBe(true);
  });
});

describe('opt-in and agent override', () => {
  it('a customer opt-in lifts the block (cause override) and keeps it off for the window', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 20_000));
    const optIn = await d.send(ev.override(T(2, 13), 'customer', 'roaming-data', 'window-end'));
    expect(of(optIn.actions, 'unblock')[0]!.cause).toBe('override');
    expect(of((await d.send(ev.usage(T(3), 'data', 'DE', 5_000))).actions, 'block')).toEqual([]);
  });

  it('an agent override suspends the block until `until`, and the engine does not put it back before', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 20_000));
    const agent = await d.send(ev.override(T(2, 13), 'agent', 'roaming-data', T(5), { agentId: 'agent-7' }));
    expect(of(agent.actions, 'unblock')[0]!.cause).toBe('override');
    for (const at of [T(3), T(4), T(4, 23)]) {
      const decision = await d.send(ev.usage(at, 'data', 'DE', 1_000));
      expect(of(decision.actions, 'block')).toEqual([]);
    }
    expect(of((await d.send(ev.tick(T(4, 23).replace(':00:00', ':59:59')))).actions, 'block')).toEqual([]);
    const back = await d.send(ev.tick(T(5)));
    expect(kinds(back)).toEqual(['block:roaming-data-block-100', 'notify:roaming-data-block-100']);
  });
});

describe('time: window roll-over, late and old records', () => {
  it('a tick into the next cycle lifts the block with cause window-reset', async () => {
    const d = drive();
    await d.send(ev.usage(T(20), 'data', 'DE', 20_000));
    expect(d.state.restrictions).toHaveLength(1);
    const tick = await d.send(ev.tick('2026-12-01T00:00:00+01:00'));
    expect(of(tick.actions, 'unblock')[0]!.cause).toBe('window-reset');
    // One millisecond earlier is still the old cycle.
    const d2 = drive();
    await d2.send(ev.usage(T(20), 'data', 'DE', 20_000));
    expect((await d2.send(ev.tick('2026-11-30T23:59:59.999+01:00'))).actions).toEqual([]);
  });

  it('a record from the previous cycle counts there, is reported late, and changes no current restriction', async () => {
    const d = drive();
    await d.send(ev.usage('2026-12-02T10:00:00+01:00', 'data', 'DE', 100));
    const late = await d.send(ev.usage('2026-11-29T10:00:00+01:00', 'data', 'DE', 25_000));
    expect(late.outcome).toBe('late');
    expect(late.actions).toEqual([]);
    expect(late.issues?.[0]?.code).toBe('late_event');
    expect(d.state.caps['roaming-data']!.prev!.charged).toBe(25_000);
    expect(d.state.caps['roaming-data']!.cur!.charged).toBe(100);
  });

  it('a record older than the previous cycle is rejected with the reason, never dropped', async () => {
    const d = drive();
    await d.send(ev.usage('2026-12-02T10:00:00+01:00', 'data', 'DE', 100));
    const before = d.state;
    const old = await d.send(ev.usage('2026-10-31T23:59:59+01:00', 'data', 'DE', 100));
    expect(old.outcome).toBe('rejected');
    expect(old.issues?.[0]).toMatchObject({ code: 'too_old', path: '$.at' });
    expect(old.state).toBe(before);
  });
});

describe('duplicates and bad input', () => {
  it('a repeated id is a duplicate: no state change, no action', async () => {
    const d = drive();
    const usage = ev.usage(T(2), 'data', 'DE', 20_000);
    await d.send(usage);
    const before = d.state;
    const again = await d.send(usage);
    expect(again).toEqual({ outcome: 'duplicate', state: before, actions: [] });
  });

  it.each([
    [
      { ...ev.usage(T(2), 'data', 'DE', 10), cost: { amount: 10, currency: 'EUR' } },
      'currency_mismatch',
      '$.cost.currency',
    ],
    [ev.usage(T(2), 'dta', 'DE', 10), 'unknown_service', '$.service'],
    [
      { ...ev.usage(T(2), 'data', 'DE', 10), cost: { amount: 1.5, currency: 'PLN' } },
      'invalid_type',
      '$.cost.amount',
    ],
    [{ ...ev.usage(T(2), 'data', 'DE', 10), at: '2026-11-02T10:00:00' }, 'invalid_format', '$.at'],
    [{ ...ev.usage(T(2), 'data', 'XX', 10) }, 'invalid_value', '$.country'],
    [{ ...ev.payment(T(2), 10), subscriberId: 'other' }, 'subscriber_mismatch', '$.subscriberId'],
    [{ ...ev.tick(T(2)), extra: 1 }, 'unknown_key', '$.extra'],
    [ev.override(T(2), 'agent', 'roaming-dta', 'window-end'), 'unknown_cap', '$.capId'],
  ])('rejects %j with %s at %s, state unchanged', async (event, code, path) => {
    const d = drive();
    const before = d.state;
    const decision = await d.send(event);
    expect(decision.outcome).toBe('rejected');
    expect(decision.state).toBe(before);
    expect(decision.issues?.some((i) => i.code === code && i.path === path)).toBe(true);
  });

  it('suggests the closest name for a misspelt service', async () => {
    const decision = await drive().send(ev.usage(T(2), 'dta', 'DE', 10));
    expect(decision.outcome === 'rejected' && decision.issues[0]!.message).toContain("did you mean 'data'?");
  });

  it('process never throws, even on a non-object or a broken state', async () => {
    const d = drive();
    for (const bad of [null, undefined, 42, 'usage', [], { type: 'usage' }, { type: 'nope' }]) {
      const decision = await d.engine.process(d.state, bad);
      expect(decision.outcome).toBe('rejected');
    }
    const broken = { ...d.state, version: 99 } as never;
    expect((await d.engine.process(broken, ev.tick(T(2)))).outcome).toBe('rejected');
  });

  it('init refuses an invalid profile with located issues', () => {
    const engine = createEngine(loadPolicy(shippedPolicyJson()));
    expect(() => engine.init({ ...profile, timeZone: 'Mars/Olympus' } as never)).toThrow(InputError);
    try {
      engine.init({ ...profile, cycleAnchorDay: 32 } as never);
    } catch (error) {
      expect((error as InputError).issues[0]!.path).toBe('$.cycleAnchorDay');
    }
  });
});

describe('disputes, credits and adjustments', () => {
  it('an open dispute stops counting at once (unblock cause dispute); upheld becomes a credit; a rejected one counts again', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 21_000));
    const open = await d.send(ev.dispute(T(3), 'CASE-1', 5_000, 'open', { capId: 'roaming-data' }));
    expect(of(open.actions, 'unblock')[0]!.cause).toBe('dispute');
    const totals = () => d.state.caps['roaming-data']!.cur!;
    expect(totals()).toMatchObject({ charged: 21_000, disputed: 5_000, credited: 0 });
    const rejected = await d.send(ev.dispute(T(4), 'CASE-1', 5_000, 'rejected'));
    expect(of(rejected.actions, 'block')).toHaveLength(1);
    expect(totals()).toMatchObject({ disputed: 0, credited: 0 });

    const d2 = drive();
    await d2.send(ev.usage(T(2), 'data', 'DE', 21_000));
    await d2.send(ev.dispute(T(3), 'CASE-2', 5_000, 'open', { capId: 'roaming-data' }));
    const upheld = await d2.send(ev.dispute(T(4), 'CASE-2', 5_000, 'upheld'));
    expect(upheld.actions).toEqual([]);
    expect(d2.state.caps['roaming-data']!.cur).toMatchObject({ disputed: 0, credited: 5_000 });
  });

  it('refuses impossible dispute transitions', async () => {
    const d = drive();
    const never = await d.send(ev.dispute(T(2), 'CASE-9', 100, 'rejected'));
    expect(never.outcome === 'rejected' && never.issues[0]!.code).toBe('invalid_transition');
    await d.send(ev.dispute(T(2), 'CASE-9', 100, 'open'));
    const twice = await d.send(ev.dispute(T(3), 'CASE-9', 100, 'open'));
    expect(twice.outcome).toBe('rejected');
  });

  it('a negative adjustment is a credit (unblock cause credit); with capId it touches only that cap', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 20_000));
    const credit = await d.send(ev.adjustment(T(3), -1_000, { capId: 'roaming-data' }));
    expect(of(credit.actions, 'unblock')[0]!.cause).toBe('credit');
    expect(d.state.caps['roaming-data']!.cur!.credited).toBe(1_000);
    expect(d.state.caps['bill']!.cur!.credited).toBe(0);
    await d.send(ev.adjustment(T(3, 13), 500));
    expect(d.state.caps['bill']!.cur!.charged).toBe(20_500);
    // A charge without capId raises only the account-wide cap: it cannot push roaming data over.
    expect(d.state.caps['roaming-data']!.cur!.charged).toBe(20_000);
  });
});

describe('notices are edge-triggered', () => {
  it('fires once per rule, cap and window, and re-arms when the rule stops matching', async () => {
    const d = drive();
    await d.send(ev.location(T(1), 'DE'));
    const first = await d.send(ev.usage(T(2), 'data', 'DE', 16_000));
    expect(kinds(first)).toEqual(['notify:roaming-data-warn-80']);
    expect((await d.send(ev.usage(T(2, 13), 'data', 'DE', 100))).actions).toEqual([]);
    await d.send(ev.payment(T(3), 5_000)); // back under 80 %: re-armed
    const again = await d.send(ev.usage(T(3, 13), 'data', 'DE', 5_000));
    expect(kinds(again)).toEqual(['notify:roaming-data-warn-80']);
    expect(again.actions[0]!.id).not.toBe(first.actions[0]!.id);
  });

  it('welcomes the subscriber on entering another zone, once per move', async () => {
    const d = drive();
    expect(kinds(await d.send(ev.location(T(2), 'DE')))).toEqual(['notify:welcome-roaming']);
    expect(kinds(await d.send(ev.location(T(2, 13), 'FR')))).toEqual([]);
    expect(kinds(await d.send(ev.location(T(3), 'US')))).toEqual(['notify:welcome-roaming']);
    expect(kinds(await d.send(ev.location(T(4), 'PL')))).toEqual([]);
  });

  it('renders in the subscriber locale, falling back to the language and then en', async () => {
    for (const [locale, start] of [
      ['pl-PL', 'Witamy'],
      ['pl', 'Witamy'],
      ['de-DE', 'Welcome'],
    ] as const) {
      const d = drive(shippedPolicyJson(), { ...profile, locale });
      const decision = await d.send(ev.location(T(2), 'DE'));
      expect((decision.actions[0] as { message: string }).message.startsWith(start)).toBe(true);
    }
  });
});

describe('state and batch API', () => {
  it('state is plain, versioned JSON that survives a round trip', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 20_000));
    const copy = JSON.parse(JSON.stringify(d.state));
    expect(copy).toEqual(d.state);
    expect(copy.version).toBe(2);
    const next = await d.engine.process(copy, ev.payment(T(3), 5_000));
    expect(of(next.actions, 'unblock')).toHaveLength(1);
  });

  it('a stored state of version 1 (ids in a record) is migrated and decides as its version 2 would', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 20_000));
    const voice = ev.usage(T(2), 'voice', 'PL', 100);
    await d.send(voice);
    const current = JSON.parse(JSON.stringify(d.state));
    const v1 = {
      ...current,
      version: 1,
      seen: Object.fromEntries(current.seen.ids.map((id: string, i: number) => [id, current.seen.at[i]])),
    };
    expect(migrateState(v1)).toEqual(current);
    expect(v1.version).toBe(1); // the input is not changed
    const payment = ev.payment(T(3), 5_000);
    const fromV1 = await d.engine.process(v1, payment);
    const fromV2 = await d.engine.process(current, payment);
    expect(fromV1).toEqual(fromV2);
    expect(fromV1.state.version).toBe(2);
    const repeat = await d.engine.process(v1, voice);
    expect(repeat.outcome).toBe('duplicate');
    expect(d.engine.explain(v1 as SubscriberState)).toEqual(d.engine.explain(current));
  });

  it('refuses a state of a newer version, and applied ids that do not pair with their times', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 20_000));
    const stored = JSON.parse(JSON.stringify(d.state));
    const newer = await d.engine.process({ ...stored, version: 3 }, ev.payment(T(3), 5_000));
    expect(newer.outcome).toBe('rejected');
    expect(newer.issues).toEqual([
      expect.objectContaining({ path: '$.state.version', message: expect.stringMatching(/newer spendcap/) }),
    ]);
    const unpaired = { ...stored, seen: { ids: stored.seen.ids, at: [] } };
    const a = await d.engine.process(unpaired, ev.payment(T(3), 5_000));
    expect(a.issues).toEqual([expect.objectContaining({ path: '$.state.seen.at', code: 'invalid_state' })]);
    const twice = { ...stored, seen: { ids: ['x', 'x'], at: [1, 2] } };
    const b = await d.engine.process(twice, ev.payment(T(3), 5_000));
    expect(b.issues).toEqual([
      expect.objectContaining({ path: '$.state.seen.ids[1]', code: 'invalid_state' }),
    ]);
  });

  it('process does not mutate the state it is given', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 10_000));
    const snapshot = JSON.stringify(d.state);
    const given = d.state;
    await d.engine.process(given, ev.usage(T(3), 'data', 'DE', 15_000));
    expect(JSON.stringify(given)).toBe(snapshot);
  });

  it('run keeps input order, each subscriber in order, and returns final states', async () => {
    const engine = createEngine(loadPolicy(shippedPolicyJson()));
    const other = { ...profile, subscriberId: 'sub-2' };
    const events = [
      ev.usage(T(2), 'data', 'DE', 20_000),
      { ...ev.usage(T(2), 'data', 'DE', 10), subscriberId: 'sub-2' },
      ev.payment(T(3), 1_000),
      { ...ev.tick(T(3)), subscriberId: 'nobody' },
    ];
    const batch = await engine.run(events, [profile, other]);
    expect(batch.decisions.map((d) => d.outcome)).toEqual(['applied', 'applied', 'applied', 'rejected']);
    expect(batch.decisions.map((d) => d.eventId)).toEqual(events.map((e) => e.id));
    expect(batch.decisions[2]!.actions.some((a) => a.kind === 'unblock')).toBe(true);
    expect(Object.keys(batch.states).sort()).toEqual([SUB, 'sub-2']);
    expect(batch.decisions[3]!.issues?.[0]?.message).toContain("no profile for subscriber 'nobody'");
  });

  it('run takes profiles without events, a repeated profile (the later one counts) and states of subscribers without one, as the reference does', async () => {
    const policy = loadPolicy(shippedPolicyJson());
    const quiet = (id: string) => ({ ...profile, subscriberId: id });
    const moved = { ...profile, subscriberId: 'sub-2', homeCountry: 'DE' };
    const resumed = (
      await createEngine(policy).run(
        [{ ...ev.usage(T(1), 'data', 'DE', 500), subscriberId: 'sub-3' }],
        [quiet('sub-3')],
      )
    ).states['sub-3']!;
    const events = [
      { ...ev.usage(T(2), 'data', 'DE', 20_000), subscriberId: 'sub-2' },
      ev.usage(T(2), 'data', 'DE', 19_000),
      { ...ev.tick(T(3)), subscriberId: 'sub-3' },
      { ...ev.tick(T(3)), subscriberId: 'nobody' },
      ev.payment(T(3), 1_000),
      { ...ev.usage(T(4), 'data', 'PL', 3_000), subscriberId: 'sub-2' },
    ];
    // Profiles without events first, between and last; sub-2 twice, the second at home in DE.
    const profiles = [
      quiet('q-1'),
      { ...profile, subscriberId: 'sub-2' },
      quiet('q-2'),
      profile,
      moved,
      quiet('q-3'),
    ];
    const batch = await createEngine(policy).run(events, profiles, { 'sub-3': resumed });
    const reference = await createEngine(policy, { evaluator: 'json-rules-engine' }).run(events, profiles, {
      'sub-3': resumed,
    });
    expect(batch).toEqual(reference);
    expect(Object.keys(batch.states).sort()).toEqual([SUB, 'sub-2', 'sub-3']);
    // sub-2 is home in DE (the later profile): its usage in DE is not roaming, its usage in PL is.
    expect(batch.states['sub-2']!.profile.homeCountry).toBe('DE');
    expect(batch.states['sub-2']!.caps['roaming-data']!.cur!.charged).toBe(3_000);
    expect(batch.decisions[3]!.outcome).toBe('rejected');
  });

  it('run gives one decision per input, in input order, with unreadable events among the valid ones', async () => {
    const policy = loadPolicy(shippedPolicyJson());
    const other = { ...profile, subscriberId: 'sub-2' };
    const throwing = { ...ev.tick(T(3)) };
    Object.defineProperty(throwing, 'at', {
      enumerable: true,
      get() {
        throw new Error('no time for you');
      },
    });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const events: unknown[] = [
      ev.usage(T(2), 'data', 'DE', 15_000),
      { ...ev.usage(T(2), 'data', 'DE', 100), subscriberId: 'sub-2' },
      throwing,
      null,
      revoked.proxy,
      42,
      ev.usage(T(2), 'data', 'DE', 6_000),
      { ...ev.payment(T(3), 50_000), subscriberId: 'sub-2' },
      ev.payment(T(3), 2_000),
    ];
    const fast = await createEngine(policy).run(events, [profile, other]);
    const reference = await createEngine(policy, { evaluator: 'json-rules-engine' }).run(events, [
      profile,
      other,
    ]);
    expect(fast).toEqual(reference);
    expect(fast.decisions).toHaveLength(events.length);
    expect(fast.decisions.map((d) => d.outcome)).toEqual([
      'applied',
      'applied',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
      'applied',
      'applied',
      'applied',
    ]);
    expect(fast.decisions[2]!.issues?.[0]?.message).toContain('no time for you');
    // The subscriber's own order: the block comes with the second usage, the unblock with the payment.
    expect(fast.decisions[6]!.actions.map((a) => a.kind)).toContain('block');
    expect(fast.decisions[8]!.actions.map((a) => a.kind)).toContain('unblock');
  });

  it('run decides an event whose getters change between reads on its first reading of id and at', async () => {
    // run reads id and at in input order, before deciding in subscriber order; an event whose getters
    // answer differently the second time must still be decided on one consistent, checked reading.
    const policy = loadPolicy(shippedPolicyJson());
    const fickle = (base: Record<string, unknown>): Record<string, unknown> => {
      const event = { ...base };
      for (const key of ['id', 'at'] as const) {
        const first = base[key];
        let reads = 0;
        Object.defineProperty(event, key, {
          enumerable: true,
          get: () => (reads++ === 0 ? first : key === 'at' ? 'not a time' : ''),
        });
      }
      return event;
    };
    const plain = [ev.usage(T(2), 'data', 'DE', 15_000), ev.usage(T(2, 1), 'data', 'DE', 6_000)];
    const result = await createEngine(policy).run(plain.map(fickle), [profile]);
    const expected = await createEngine(policy).run(plain, [profile]);
    expect(result.decisions.map((d) => d.outcome)).toEqual(['applied', 'applied']);
    expect(result).toEqual(expected);
  });

  it('run finds repeats among many applied ids of one subscriber, as the reference does', async () => {
    // Past a few dozen applied ids run keeps a set of them beside the state: repeats of ids applied
    // before and after that point, and the state it hands out, must be what the reference gives.
    const policy = loadPolicy(shippedPolicyJson());
    const usages = Array.from({ length: 90 }, (_, i) =>
      ev.usage(T(2 + Math.floor(i / 10), i % 10), i % 3 === 0 ? 'data' : 'voice', i % 2 ? 'DE' : 'PL', 150),
    );
    const events = [
      ...usages.slice(0, 40),
      usages[3]!,
      usages[39]!,
      ...usages.slice(40),
      usages[0]!,
      usages[60]!,
      usages[89]!,
    ];
    const fast = await createEngine(policy).run(events, [profile]);
    const reference = await createEngine(policy, { evaluator: 'json-rules-engine' }).run(events, [profile]);
    expect(fast).toEqual(reference);
    const outcomes = fast.decisions.map((d) => d.outcome);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(5);
    expect([outcomes[40], outcomes[41], outcomes.at(-1)]).toEqual(['duplicate', 'duplicate', 'duplicate']);
    expect(fast.states[SUB]!.seen.ids).toHaveLength(90);
  });

  it('run finds every repeat of an applied id among fresh ones, as the reference does', async () => {
    // Repeats drawn from the ids applied so far, with other content (a repeat is known by its id
    // alone), among fresh ids: each must be found, and nothing else taken for one.
    const policy = loadPolicy(shippedPolicyJson());
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(29), fc.boolean(), fc.constantFrom('data', 'voice', 'sms')), {
          minLength: 1,
          maxLength: 80,
        }),
        async (draws) => {
          const fresh: Record<string, unknown>[] = [];
          const events = draws.map(([pick, repeat, service], i) => {
            const event =
              repeat && fresh.length > 0
                ? // A repeat: an applied id with other content (a repeat is known by its id alone).
                  { ...ev.usage(T(2, i % 24), service, 'PL', 10 + i), id: fresh[pick % fresh.length]!['id'] }
                : ev.usage(T(2, i % 24), service, i % 2 ? 'DE' : 'PL', 10 + i);
            if (!repeat) fresh.push(event);
            return event;
          });
          const fast = await createEngine(policy).run(events, [profile]);
          const reference = await createEngine(policy, { evaluator: 'json-rules-engine' }).run(events, [
            profile,
          ]);
          expect(fast).toEqual(reference);
          const repeats = draws.filter(([, repeat], i) => repeat && draws.slice(0, i).some(([, r]) => !r));
          expect(fast.decisions.filter((d) => d.outcome === 'duplicate')).toHaveLength(repeats.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('run finds a repeat whose id getter answers differently on a second read', async () => {
    // run reads each id in input order; an event whose at fails that first reading is read again by
    // the full check, and its id may then be another: the decision is made on the id read then.
    const policy = loadPolicy(shippedPolicyJson());
    const first = ev.usage(T(2), 'data', 'PL', 100);
    const later = ev.usage(T(2, 1), 'data', 'PL', 200);
    const fickle: Record<string, unknown> = { ...later };
    let idReads = 0;
    let atReads = 0;
    Object.defineProperty(fickle, 'id', {
      enumerable: true,
      get: () => (idReads++ === 0 ? 'never-applied' : first.id),
    });
    Object.defineProperty(fickle, 'at', {
      enumerable: true,
      get: () => (atReads++ === 0 ? 'not a time' : later.at),
    });
    const result = await createEngine(policy).run([first, fickle], [profile]);
    expect(result.decisions.map((d) => d.outcome)).toEqual(['applied', 'duplicate']);
    expect(result.states[SUB]!.seen.ids).toEqual([first.id]);
  });

  it('run finds repeats of ids applied before it, in the states it resumes from', async () => {
    const policy = loadPolicy(shippedPolicyJson());
    const engine = createEngine(policy);
    const before = Array.from({ length: 12 }, (_, i) => ev.usage(T(2, i), 'voice', 'PL', 30));
    const { states } = await engine.run(before, [profile]);
    const after = [ev.usage(T(3), 'voice', 'PL', 30), ...before.map((e) => ({ ...e, at: T(3, 2) }))];
    const resumed = await engine.run(after, [profile], states);
    expect(resumed.decisions.map((d) => d.outcome)).toEqual(['applied', ...before.map(() => 'duplicate')]);
  });

  it('explain says what is restricted, why and what lifts it', async () => {
    const d = drive();
    expect(d.engine.explain(d.state).restricted).toBe(false);
    await d.send(ev.usage(T(2), 'data', 'DE', 21_000));
    const why = d.engine.explain(d.state);
    expect(why.restricted).toBe(true);
    expect(why.restrictions[0]!.lift).toMatchObject({ payment: 1_001, optIn: true, returnHome: false });
    expect(why.text).toContain('Data while roaming (eu, world) is blocked');
    expect(why.text).toContain('pay PLN\u00a010.01');
    expect(why.restrictions[0]!.because.conditions.map((c) => [c.fact, c.result])).toEqual([
      ['usageRatio', true],
      ['optedIn', true],
    ]);
  });

  it('action ids are derived from content: the same input gives the same ids', async () => {
    const events = [
      ev.usage(T(2), 'data', 'DE', 16_000),
      ev.usage(T(2, 13), 'data', 'DE', 5_000),
      ev.payment(T(3), 9_000),
    ];
    const ids = async () => {
      const d = drive();
      const out: string[] = [];
      for (const e of events) out.push(...(await d.send(e)).actions.map((a) => a.id));
      return out;
    };
    const first = await ids();
    expect(await ids()).toEqual(first);
    expect(new Set(first).size).toBe(first.length);
  });
});

describe('hostile input', () => {
  it('an event whose getter throws is rejected, not thrown', async () => {
    const d = drive();
    const hostile = Object.defineProperty({ ...ev.tick('2026-11-02T12:00:00+01:00') }, 'at', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const decision = await d.engine.process(d.state, hostile);
    expect(decision.outcome).toBe('rejected');
    expect(decision.issues?.[0]?.message).toContain('boom');
  });
});

describe('what can be late', () => {
  it('an older location does not move the subscriber; an override dated before the cycle still acts now', async () => {
    const d = drive();
    await d.send(ev.usage('2026-12-02T10:00:00+01:00', 'data', 'DE', 20_000));
    expect(d.state.restrictions).toHaveLength(1);
    const oldLocation = await d.send(ev.location('2026-11-30T10:00:00+01:00', 'US'));
    expect(d.state.location.country).toBe('DE');
    expect(oldLocation.outcome).toBe('applied');
    const override = await d.send(
      ev.override('2026-11-30T12:00:00+01:00', 'agent', 'roaming-data', '2026-12-05T00:00:00+01:00'),
    );
    expect(override.outcome).toBe('applied');
    expect(override.actions.map((a) => a.kind)).toEqual(['unblock', 'notify']);
  });

  it('a late usage neither moves the subscriber nor evaluates rules', async () => {
    const d = drive();
    await d.send(ev.tick('2026-12-02T10:00:00+01:00'));
    const late = await d.send(ev.usage('2026-11-30T10:00:00+01:00', 'data', 'US', 100));
    expect(late.outcome).toBe('late');
    expect(d.state.location.zone).toBe('home');
    const move = await d.send(ev.location('2026-11-30T11:00:00+01:00', 'US'));
    expect(move.outcome).toBe('applied');
    expect(kinds(move)).toEqual(['notify:welcome-roaming']);
  });
});

describe('lift advice covers every restriction holding the same pairs', () => {
  it('a notice names a payment that really lifts the block, when two caps hold roaming data', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 25_000)); // roaming-data at 125 %
    const second = await d.send(ev.usage(T(3), 'voice', 'PL', 125_600)); // the bill at 100.4 %
    const notice = of(second.actions, 'notify').find((n) => n.ruleId === 'bill-block-roaming-data-100')!;
    // The bill alone would need 6.01, but roaming data stays blocked until its own 5,001 are paid.
    expect(notice.paymentLink).toContain('amount=5001');
    const paid = await d.send(ev.payment(T(4), 5_001));
    expect(of(paid.actions, 'unblock').map((u) => u.cause)).toEqual(['payment']);
    expect(d.state.restrictions).toEqual([]);
  });

  it('an action hands out its own arrays: changing one cannot change the policy or the state', async () => {
    const d = drive();
    const decision = await d.send(ev.usage(T(2), 'data', 'DE', 25_000));
    const block = of(decision.actions, 'block')[0]!;
    block.scope.length = 0;
    expect(d.state.restrictions[0]!.scope).toHaveLength(2);
    const again = drive(shippedPolicyJson());
    expect(
      of((await again.send(ev.usage(T(2), 'data', 'DE', 25_000))).actions, 'block')[0]!.scope,
    ).toHaveLength(2);
  });

  it('an inconsistent stored state is rejected, never thrown', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 100));
    const edited = { ...d.state, clock: 9e15 };
    expect((await d.engine.process(edited, ev.tick(T(3)))).outcome).toBe('rejected');
  });

  it('an override that would already have ended is refused', async () => {
    const d = drive();
    await d.send(ev.tick(T(10)));
    const stale = await d.send(ev.override(T(4), 'agent', 'roaming-data', T(5)));
    expect(stale.outcome).toBe('rejected');
    expect(stale.issues?.[0]?.path).toBe('$.until');
  });
});

describe('policy versions', () => {
  it('a new version of the same policy carries on from a stored state and records its version', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 16_000));
    expect(d.state.policy).toEqual({ id: 'graduated-postpaid', version: '2026-11-01' });
    const next = createEngine(loadPolicy({ ...shippedPolicyJson(), version: '2026-12-01' }));
    const decision = await next.process(d.state, ev.usage(T(3), 'data', 'DE', 5_000));
    expect(decision.outcome).toBe('applied');
    expect(decision.state.policy.version).toBe('2026-12-01');
    expect(decision.actions.some((a) => a.kind === 'block')).toBe(true);
  });

  it('a state made under another policy id is rejected', async () => {
    const d = drive();
    const other = createEngine(loadPolicy({ ...shippedPolicyJson(), id: 'another' }));
    expect((await other.process(d.state, ev.tick(T(2)))).issues?.[0]?.code).toBe('invalid_state');
  });
});

describe('states the engine made', () => {
  it('are trusted without a schema check, but a version or policy edited in place is still refused', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 100));
    const state = d.state as { version: number };
    state.version = 99;
    const decision = await d.engine.process(d.state, ev.tick(T(3)));
    expect(decision.outcome).toBe('rejected');
    expect(decision.issues?.[0]?.code).toBe('invalid_state');
  });

  it('carry nothing a copy, JSON or an equality check can see, and a copy is not trusted', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 100));
    const state = d.state;
    expect(
      Object.getOwnPropertySymbols(state).every(
        (s) => !Object.getOwnPropertyDescriptor(state, s)!.enumerable,
      ),
    ).toBe(true);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(Object.keys(structuredClone(state))).toEqual(Object.keys(state));
    // A spread copy with a broken field is checked whole (the original would be trusted as it is).
    const copy = { ...state, clock: 'soon' } as unknown as typeof state;
    const decision = await d.engine.process(copy, ev.tick(T(3)));
    expect(decision.outcome).toBe('rejected');
    expect(decision.issues?.[0]?.path).toBe('$.state.clock');
  });

  it('can be frozen by the caller and still be processed, and run leaves given states it did not change alone', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 100));
    const frozen = deepFreeze(structuredClone(d.state));
    const decision = await d.engine.process(frozen, ev.usage(T(3), 'data', 'DE', 100));
    expect(decision.outcome).toBe('applied');
    const batch = await d.engine.run([{ type: 'tick', id: 'x1', subscriberId: SUB, at: 'not a time' }], [], {
      [SUB]: frozen,
    });
    expect(batch.decisions[0]!.outcome).toBe('rejected');
    expect(batch.states[SUB]).toBe(frozen);
  });

  it('a state loaded from storage is checked whole', async () => {
    const d = drive();
    await d.send(ev.usage(T(2), 'data', 'DE', 100));
    const stored = JSON.parse(JSON.stringify(d.state));
    stored.caps['roaming-data'].cur.charged = 'lots';
    const decision = await d.engine.process(stored, ev.tick(T(3)));
    expect(decision.outcome).toBe('rejected');
    expect(decision.issues?.[0]?.path).toBe('$.state.caps["roaming-data"].cur.charged');
  });
});
