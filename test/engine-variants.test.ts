import { describe, expect, it } from 'vitest';
import type { Action } from '../src/index';
import { drive, ev, kinds, profile, variantPolicyJson } from './support/fixtures';

const of = <K extends Action['kind']>(actions: readonly Action[], kind: K) =>
  actions.filter((a): a is Extract<Action, { kind: K }> => a.kind === kind);

describe('throttle on a day window, lifted by leaving the zone and by the new day', () => {
  it('throttles roaming data for the day; coming home lifts it with cause left-zone', async () => {
    const d = drive(variantPolicyJson());
    const over = await d.send(ev.usage('2026-11-02T10:00:00+01:00', 'data', 'US', 1_000));
    expect(kinds(over)).toEqual(['throttle:daily-throttle', 'notify:daily-throttle']);
    expect(of(over.actions, 'throttle')[0]).toMatchObject({ kbps: 128 });
    expect(of(over.actions, 'notify')[0]!.message).toMatch(
      /^Your data while roaming \(eu, world\) is restricted: /,
    );
    const home = await d.send(ev.location('2026-11-02T18:00:00+01:00', 'PL'));
    expect(of(home.actions, 'unblock')[0]).toMatchObject({ cause: 'left-zone', lifts: 'throttle' });
  });

  it('the next local day lifts it with cause window-reset, exactly at local midnight', async () => {
    const d = drive(variantPolicyJson());
    await d.send(ev.usage('2026-11-02T10:00:00+01:00', 'data', 'US', 1_000));
    expect((await d.send(ev.tick('2026-11-02T23:59:59.999+01:00'))).actions).toEqual([]);
    const midnight = await d.send(ev.tick('2026-11-03T00:00:00+01:00'));
    expect(of(midnight.actions, 'unblock')[0]!.cause).toBe('window-reset');
  });
});

describe('a quantity cap counts usage quantity in its unit', () => {
  it('warns at 90 % of the allowance, never counts money or another unit', async () => {
    const d = drive(variantPolicyJson());
    await d.send(ev.usage('2026-11-02T10:00:00+01:00', 'data', 'PL', 99_999, { quantity: 850, unit: 'MB' }));
    const other = await d.send(
      ev.usage('2026-11-02T11:00:00+01:00', 'data', 'PL', 1, { quantity: 100_000, unit: 'KB' }),
    );
    expect(other.issues?.[0]).toMatchObject({ code: 'not_counted', path: '$.unit' });
    const warn = await d.send(
      ev.usage('2026-11-02T12:00:00+01:00', 'data', 'PL', 1, { quantity: 50, unit: 'MB' }),
    );
    expect(kinds(warn)).toEqual(['notify:allowance-90']);
    expect(of(warn.actions, 'notify')[0]!.message).toBe(
      'You have used 90% of your data allowance: 900 MB of 1,000 MB.',
    );
    expect(d.state.caps['allowance']!.cur!.charged).toBe(900);
  });
});

describe('two caps restricting the same pair', () => {
  it('an unblock names only the pairs no other restriction still holds', async () => {
    const d = drive({ ...variantPolicyJson(), rules: variantPolicyJson().rules.slice(2) });
    await d.send(ev.usage('2026-11-02T10:00:00+01:00', 'data', 'DE', 5_000)); // eu-data at 100 %
    const both = await d.send(ev.usage('2026-11-02T11:00:00+01:00', 'data', 'US', 3_000)); // all-data at 100 %
    expect(of(both.actions, 'block').map((b) => b.ruleId)).toEqual(['all-block-roaming']);
    // A credit on all-data only: its block goes, but data in eu stays blocked by eu-data.
    const credit = await d.send(ev.adjustment('2026-11-03T10:00:00+01:00', -1_000, { capId: 'all-data' }));
    const unblock = of(credit.actions, 'unblock');
    expect(unblock).toHaveLength(1);
    expect(unblock[0]!.scope).toEqual([{ service: 'data', zone: 'world' }]);
    expect(of(credit.actions, 'notify')[0]!.scope).toEqual([{ service: 'data', zone: 'world' }]);
    expect(d.state.restrictions.map((r) => r.ruleId)).toEqual(['eu-block']);
  });
});

describe('subscriber time zones', () => {
  it('windows follow the subscriber zone, not the process zone', async () => {
    const d = drive(variantPolicyJson(), { ...profile, timeZone: 'Asia/Kolkata' });
    await d.send(ev.usage('2026-11-02T10:00:00+05:30', 'data', 'US', 1_000));
    // 23:59 in Kolkata is still the same day; 00:00 is the next.
    expect((await d.send(ev.tick('2026-11-02T18:29:59Z'))).actions).toEqual([]);
    expect(of((await d.send(ev.tick('2026-11-02T18:30:00Z'))).actions, 'unblock')).toHaveLength(1);
  });
});
