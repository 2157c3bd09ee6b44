import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, EventSchema } from '../../src/index';
import {
  BAD_DATES,
  buildStream,
  DEFECT_NAMES,
  interleave,
  PROTOTYPE_NAMES,
  streamArb,
  type Plan,
  type Step,
} from '../arbitraries/events';
import { S1_PROFILE } from '../arbitraries/profiles';
import { processStream } from '../arbitraries/harness';
import { loadCached, SHIPPED, SHIPPED_DOMAIN, domainOf, variantPolicyArb } from '../arbitraries/policies';

// The invariants are only as strong as the streams they run on: these tests check that the shared
// generators produce what the properties rely on (every event type, late and duplicate and invalid
// events, windows that roll, and decisions that block, throttle and unblock).

const step = (kind: Step['kind'], over: Partial<Step> = {}): Step => ({
  kind,
  sub: 0,
  dt: 60,
  pick: 0,
  pick2: 0,
  amount: 1_000,
  money: 1_000,
  quantity: 10,
  back: 60,
  flag: false,
  flag2: false,
  offset: 0,
  ...over,
});

const profile = S1_PROFILE;

describe('stream generator', () => {
  it('writes dispute references that go open -> upheld/rejected', () => {
    const plan: Plan = {
      profiles: [profile],
      start: Date.UTC(2026, 2, 1),
      steps: [
        step('dispute', { pick2: 1 }),
        step('dispute', { pick2: 1 }),
        step('dispute', { flag: true, flag2: true, pick2: 1 }),
        step('dispute', { flag: true, pick2: 1 }),
      ],
    };
    const { events } = buildStream(SHIPPED_DOMAIN, plan);
    expect(
      events.map((e) => [(e as { reference: string }).reference, (e as { status: string }).status]),
    ).toEqual([
      ['CASE-s1-1', 'open'],
      ['CASE-s1-2', 'open'],
      ['CASE-s1-1', 'upheld'],
      ['CASE-s1-2', 'rejected'],
    ]);
  });

  it('repeats an earlier event verbatim and keeps ids unique per subscriber', () => {
    const plan: Plan = {
      profiles: [profile, { ...profile, subscriberId: 's-2' }],
      start: Date.UTC(2026, 2, 1),
      steps: [step('usage'), step('usage', { sub: 1 }), step('payment'), step('duplicate', { pick: 1 })],
    };
    const { events, labels } = buildStream(SHIPPED_DOMAIN, plan);
    expect(events[3]).toEqual(events[2]);
    expect(labels[3]).toEqual({ kind: 'duplicate', host: 's1', of: 2 });
    expect((events[0] as { id: string }).id).toBe((events[1] as { id: string }).id);
  });

  it('writes valid events the schema accepts, and invalid ones it or the engine refuses', () => {
    fc.assert(
      fc.property(streamArb(SHIPPED_DOMAIN), (stream) => {
        stream.events.forEach((event, i) => {
          if (stream.labels[i]!.kind !== 'invalid') expect(EventSchema.safeParse(event).success).toBe(true);
        });
      }),
    );
  });

  it('keeps ids unique per subscriber, also when they are named like Object.prototype members', () => {
    let tricky = 0;
    fc.assert(
      fc.property(streamArb(SHIPPED_DOMAIN, { ids: 'prototype' }), (stream) => {
        const ids = new Set<string>();
        stream.events.forEach((event, i) => {
          const label = stream.labels[i]!;
          if (label.kind !== 'valid' && label.kind !== 'backdated') return;
          const key = `${label.host}|${(event as { id: string }).id}`;
          expect(ids.has(key)).toBe(false);
          ids.add(key);
          if ((PROTOTYPE_NAMES as readonly string[]).includes((event as { id: string }).id)) tricky++;
        });
      }),
    );
    expect(tricky).toBeGreaterThan(0);
  });

  it('lists bad dates the schema refuses', () => {
    for (const at of BAD_DATES) {
      expect(EventSchema.safeParse({ type: 'tick', id: 'a', subscriberId: 's1', at }).success).toBe(false);
    }
  });

  it('interleaves subscribers while keeping each one order', () => {
    fc.assert(
      fc.property(streamArb(SHIPPED_DOMAIN), fc.array(fc.nat(), { maxLength: 60 }), (stream, picks) => {
        const other = interleave(stream, picks);
        const hostOrder = (s: typeof stream, host: string) =>
          s.events.filter((_, i) => s.labels[i]!.host === host);
        for (const p of stream.profiles)
          expect(hostOrder(other, p.subscriberId)).toEqual(hostOrder(stream, p.subscriberId));
      }),
    );
  });

  it('covers every event type, label and defect, and yields every outcome and action kind', async () => {
    const seen = { types: new Set<string>(), labels: new Set<string>(), defects: new Set<string>() };
    const outcomes = new Set<string>();
    const actions = new Set<string>();
    const causes = new Set<string>();
    const windows = new Set<string>();
    const engine = createEngine(SHIPPED);
    const streams = fc.sample(streamArb(SHIPPED_DOMAIN, { subscribers: { max: 2 } }), {
      numRuns: 60,
      seed: 42,
    });
    const variants = fc.sample(
      fc.tuple(variantPolicyArb, fc.nat()).map(([doc, n]) => ({ doc, n })),
      { numRuns: 30, seed: 7 },
    );
    const runs = [
      ...streams.map((s) => ({ engine, stream: s })),
      ...variants.map(({ doc, n }) => ({
        engine: createEngine(loadCached(doc)),
        stream: fc.sample(streamArb(domainOf(doc), { subscribers: { max: 1 } }), { numRuns: 1, seed: n })[0]!,
      })),
    ];
    for (const { engine: e, stream } of runs) {
      stream.events.forEach((event, i) => {
        const label = stream.labels[i]!;
        seen.labels.add(label.kind);
        if (label.defect !== undefined) seen.defects.add(label.defect);
        if (label.kind === 'valid') seen.types.add((event as { type: string }).type);
      });
      const { steps } = await processStream(e, stream);
      for (const s of steps) {
        outcomes.add(s.decision.outcome);
        for (const a of s.decision.actions) {
          actions.add(a.kind);
          if (a.kind === 'unblock') causes.add(a.cause);
        }
        for (const [capId, slot] of Object.entries(s.decision.state.caps))
          windows.add(`${s.host}|${capId}|${slot.cur?.key}`);
      }
    }
    expect([...seen.types].sort()).toEqual([
      'adjustment',
      'dispute',
      'location',
      'override',
      'payment',
      'tick',
      'usage',
    ]);
    expect([...seen.labels].sort()).toEqual(['backdated', 'duplicate', 'invalid', 'valid']);
    expect(seen.defects.size).toBeGreaterThan(DEFECT_NAMES.length * 0.8);
    expect([...outcomes].sort()).toEqual(['applied', 'duplicate', 'late', 'rejected']);
    expect([...actions].sort()).toEqual([
      'block',
      'careNote',
      'notify',
      'offerPayment',
      'throttle',
      'unblock',
    ]);
    expect(causes.size).toBeGreaterThanOrEqual(4);
    // Windows roll: far more distinct (subscriber, cap, window) triples than subscribers and caps.
    expect(windows.size).toBeGreaterThan(runs.length * 3);
  });
});
