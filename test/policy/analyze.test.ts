import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzePolicy, loadPolicy, type Issue } from '../../src/index';
import { shippedPolicyJson } from '../support/fixtures';

const analyze = (doc: unknown): Issue[] => analyzePolicy(loadPolicy(doc));
const codes = (issues: readonly Issue[]) => issues.map((i) => `${i.code} ${i.path}`);

/** A small policy: one roaming data cap with a warning at 80 % and a block at 100 %. */
function base(): Record<string, any> {
  return {
    id: 'analysis',
    version: '1',
    currency: 'EUR',
    locale: 'en',
    services: ['data', 'voice'],
    zones: { eu: ['FR', 'DE'] },
    otherZone: 'world',
    paymentLink: 'https://pay.example/{subscriberId}/{amount}',
    caps: [
      { id: 'rd', label: 'roaming data', limit: 1000, window: 'cycle', services: ['data'], zones: 'roaming' },
    ],
    rules: [
      {
        name: 'warn',
        cap: 'rd',
        conditions: { all: [{ fact: 'usageRatio', operator: 'greaterThanInclusive', value: 0.8 }] },
        event: { type: 'notify', params: { template: 'near' } },
      },
      {
        name: 'block',
        cap: 'rd',
        conditions: { all: [{ fact: 'usageRatio', operator: 'greaterThanInclusive', value: 1 }] },
        event: { type: 'block' },
      },
    ],
    notices: { restricted: 'restricted', lifted: 'lifted' },
    templates: {
      near: { en: 'Near {percent}%' },
      restricted: { en: 'Restricted: {reason}' },
      lifted: { en: 'Lifted: {reason}' },
    },
  };
}

describe('analyzePolicy', () => {
  it('finds nothing in a well-formed graduated policy', () => {
    expect(analyze(base())).toEqual([]);
  });

  it('finds nothing in the shipped packs, and three things in the legacy example', () => {
    for (const file of readdirSync('rules')) {
      expect(analyze(JSON.parse(readFileSync(`rules/${file}`, 'utf8'))), file).toEqual([]);
    }
    const legacy = analyze(JSON.parse(readFileSync('examples/legacy-account-block.json', 'utf8')));
    expect(codes(legacy).sort()).toEqual([
      'block_before_warning $.rules[0]',
      'home_restricted $.rules[0].event',
      'untold_restriction $.rules[0]',
    ]);
  });

  it('reports a rule that can never fire, found on the cells between thresholds', () => {
    const doc = base();
    // Between 0.5 and 0.6 exclusive on both sides, and also at least 0.7: empty.
    doc.rules[0].conditions = {
      all: [
        { fact: 'usageRatio', operator: 'greaterThan', value: 0.5 },
        { fact: 'usageRatio', operator: 'lessThan', value: 0.6 },
        { fact: 'usageRatio', operator: 'greaterThanInclusive', value: 0.7 },
      ],
    };
    const issues = analyze(doc);
    expect(codes(issues)).toContain('never_fires $.rules[0].conditions');
    // A narrow band that exists (0.5 < r < 0.6) is found: it fires.
    doc.rules[0].conditions.all.pop();
    expect(codes(analyze(doc))).not.toContain('never_fires $.rules[0].conditions');
  });

  it('reports a never-firing rule on booleans and zones too', () => {
    const doc = base();
    doc.rules.push({
      name: 'contradiction',
      conditions: {
        all: [
          { fact: 'roaming', operator: 'equal', value: true },
          { fact: 'zone', operator: 'equal', value: 'home' },
        ],
      },
      event: { type: 'notify', params: { template: 'near' } },
    });
    expect(codes(analyze(doc))).toContain('never_fires $.rules[2].conditions');
  });

  it('reports a restriction with no way out', () => {
    const doc = base();
    doc.rules[1].conditions = { all: [{ fact: 'segment', operator: 'equal', value: 'risky' }] };
    const issues = analyze(doc);
    const found = issues.find((i) => i.code === 'no_way_out');
    expect(found?.path).toBe('$.rules[1]');
    expect(found?.message).toContain('segment "risky"');
    // Payment lifts a money condition; an opt-in lifts one that reads optedIn.
    doc.rules[1].conditions.all.push({ fact: 'optedIn', operator: 'equal', value: false });
    expect(codes(analyze(doc))).not.toContain('no_way_out $.rules[1]');
  });

  it('reports a restriction told only by the built-in notice', () => {
    const doc = base();
    delete doc.notices;
    delete doc.templates.restricted;
    delete doc.templates.lifted;
    // The warning matches at the block too, so the subscriber hears of it.
    expect(codes(analyze(doc))).not.toContain('untold_restriction $.rules[1]');
    // Make the warning stop at 95 %: at 100 % no notice of the policy's own matches.
    doc.rules[0].conditions.all.push({ fact: 'usageRatio', operator: 'lessThan', value: 0.95 });
    expect(codes(analyze(doc))).toContain('untold_restriction $.rules[1]');
  });

  it('reports a block reached before its warning, on the money axis of any money fact', () => {
    const doc = base();
    doc.rules[1].conditions = { all: [{ fact: 'remaining', operator: 'lessThanInclusive', value: 300 }] };
    // remaining <= 300 is outstanding >= 700, below the warning's 800.
    const issues = analyze(doc);
    const found = issues.find((i) => i.code === 'block_before_warning');
    expect(found?.path).toBe('$.rules[1]');
    expect(found?.message).toContain('at outstanding 700 of 1000');
    doc.rules[1].conditions.all[0].value = 100; // outstanding >= 900: after the warning
    expect(codes(analyze(doc))).not.toContain('block_before_warning $.rules[1]');
    // At the same threshold is not before.
    doc.rules[1].conditions = { all: [{ fact: 'spend', operator: 'greaterThanInclusive', value: 800 }] };
    expect(codes(analyze(doc))).toContain('block_before_warning $.rules[1]');
  });

  it('reports spend abroad that can restrict a home scope', () => {
    const doc = base();
    doc.caps[0].zones = '*';
    doc.rules[1].event = { type: 'block', params: { scope: { services: ['data'], zones: ['home', 'eu'] } } };
    expect(codes(analyze(doc))).toContain('home_restricted $.rules[1].event');
    doc.rules[1].event.params.scope.zones = 'roaming';
    expect(codes(analyze(doc))).not.toContain('home_restricted $.rules[1].event');
  });

  it('reports two throttles of one scope to different speeds in the same cell; a block over a throttle is an escalation', () => {
    const doc = base();
    const throttle = (name: string, value: number, kbps: number) => ({
      name,
      cap: 'rd',
      conditions: { all: [{ fact: 'usageRatio', operator: 'greaterThanInclusive', value }] },
      event: { type: 'throttle', params: { kbps } },
    });
    doc.rules.push(throttle('slow', 0.9, 256));
    // Block at 100 % over a throttle from 90 %: the block holds while in force; not reported.
    expect(codes(analyze(doc)).filter((c) => c.startsWith('conflicting'))).toEqual([]);
    doc.rules.push(throttle('slower', 0.95, 64));
    const found = analyze(doc).find((i) => i.code === 'conflicting_restrictions');
    expect(found?.path).toBe('$.rules[3]');
    expect(found?.message).toContain("'slow' and 'slower' both restrict data@eu, data@world");
    expect(found?.message).toContain('a throttle to 256 kbps and one as a throttle to 64 kbps');
    // Disjoint conditions: they never meet.
    doc.rules[2].conditions.all.push({ fact: 'usageRatio', operator: 'lessThan', value: 0.95 });
    expect(codes(analyze(doc)).filter((c) => c.startsWith('conflicting'))).toEqual([]);
  });

  it('reports conflicting restrictions of two caps that can hold at once', () => {
    const doc = base();
    doc.caps.push({ id: 'bill', label: 'bill', limit: 5000, window: 'cycle', services: '*', zones: '*' });
    doc.rules.push(
      {
        name: 'bill-warn',
        cap: 'bill',
        conditions: { all: [{ fact: 'usageRatio', operator: 'greaterThanInclusive', value: 0.5 }] },
        event: { type: 'notify', params: { template: 'near' } },
      },
      {
        name: 'bill-slow',
        cap: 'bill',
        conditions: { all: [{ fact: 'usageRatio', operator: 'greaterThanInclusive', value: 1 }] },
        event: { type: 'throttle', params: { kbps: 128, scope: { services: ['data'], zones: 'roaming' } } },
      },
    );
    // A block over a throttle: an escalation. A throttle of its own, to another speed: a conflict.
    expect(codes(analyze(doc)).filter((c) => c.startsWith('conflicting'))).toEqual([]);
    doc.rules[1].event = { type: 'throttle', params: { kbps: 64 } };
    const found = analyze(doc).find((i) => i.code === 'conflicting_restrictions');
    expect(found?.message).toContain("'block' (cap 'rd') and 'bill-slow' (cap 'bill')");
    // When the roaming block applies only at home-country events it can never meet... a zone split does.
    doc.rules[1].conditions.all.push({ fact: 'zone', operator: 'equal', value: 'eu' });
    doc.rules[3].conditions.all.push({ fact: 'zone', operator: 'equal', value: 'world' });
    expect(codes(analyze(doc)).filter((c) => c.startsWith('conflicting'))).toEqual([]);
  });

  it('reports a template missing a language the policy declares', () => {
    const doc = base();
    doc.templates.near.de = 'Fast {percent}%';
    const issues = analyze(doc).filter((i) => i.code === 'missing_translation');
    expect(issues.map((i) => i.path).sort()).toEqual(['$.templates["lifted"]', '$.templates["restricted"]']);
    expect(issues[0]!.message).toContain("no text in 'de'");
  });

  it('says when a cap is too large to analyse rather than sampling it', () => {
    const doc = shippedPolicyJson();
    const issues = analyzePolicy(loadPolicy(doc), { maxCells: 10 });
    expect(issues.map((i) => i.code)).toContain('not_analysed');
    expect(issues.find((i) => i.code === 'not_analysed')?.message).toMatch(/spans \d+ cells/);
  });
});
