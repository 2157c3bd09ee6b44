import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';
import { policyJsonSchema } from '../../src/index';
import { drive, ev, shippedPolicyJson } from '../support/fixtures';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
});
afterEach(() => vi.restoreAllMocks());

const dir = mkdtempSync(join(tmpdir(), 'spendcap-cli-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('spendcap check', () => {
  it('passes the shipped policy with exit 0', async () => {
    expect(await main(['check', 'rules/graduated-postpaid.json'])).toBe(0);
    expect(out).toContain('rules/graduated-postpaid.json: ok');
  });

  it('names file:line:column, the JSON path and a did-you-mean, and exits 1', async () => {
    const policy = shippedPolicyJson();
    policy.rules[1].conditions.all[0].fact = 'usageRatoi';
    const text = JSON.stringify(policy, null, 2);
    const file = write('typo.json', text);
    expect(await main(['check', file])).toBe(1);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('"usageRatoi"')) + 1;
    const column = lines[line - 1]!.indexOf('"usageRatoi"') + 1;
    expect(out).toContain(
      `${file}:${line}:${column}: error unknown_fact at $.rules[1].conditions.all[0].fact`,
    );
    expect(out).toContain("did you mean 'usageRatio'?");
  });

  it('points an unknown key at the key itself', async () => {
    const policy = shippedPolicyJson();
    policy.caps[0].limt = 5;
    const text = JSON.stringify(policy, null, 2);
    const file = write('key.json', text);
    expect(await main(['check', file])).toBe(1);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('"limt"')) + 1;
    expect(out).toContain(
      `${file}:${line}:${lines[line - 1]!.indexOf('"limt"') + 1}: error unknown_key at $.caps[0].limt`,
    );
  });

  it('reports a JSON syntax error with its position and exits 1', async () => {
    const file = write('broken.json', '{\n  "id": "x",\n  "version": \n}');
    expect(await main(['check', file])).toBe(1);
    expect(out).toMatch(/broken\.json:4:1: error invalid_format: invalid JSON/);
  });

  it('exits 2 for a missing file or an unknown command', async () => {
    expect(await main(['check', join(dir, 'nope.json')])).toBe(2);
    expect(err).toContain('cannot read: ENOENT');
    expect(await main(['bogus'])).toBe(2);
  });

  it('--json gives one object a machine can read', async () => {
    expect(await main(['check', '--json', 'rules/graduated-postpaid.json'])).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ errors: 0, warnings: 0, files: [{ ok: true, issues: [] }] });
  });
});

describe('spendcap schema and explain', () => {
  it('prints the JSON Schema, or writes it with --out', async () => {
    expect(await main(['schema'])).toBe(0);
    expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(policyJsonSchema())));
    const file = join(dir, 'schema.json');
    expect(await main(['schema', '--out', file])).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(JSON.parse(out));
  });

  it('explains a stored state; exit 1 while restricted', async () => {
    const d = drive();
    await d.send(ev.usage('2026-11-02T12:00:00+01:00', 'data', 'DE', 21_000));
    const file = write('state.json', JSON.stringify(d.state));
    expect(await main(['explain', 'rules/graduated-postpaid.json', file])).toBe(1);
    expect(out).toContain('Data while roaming (eu, world) is blocked');
  });
});

describe('spendcap test', () => {
  const scenarios = 'test/rules/graduated-postpaid.scenarios.json';

  it('passes the shipped scenarios, prints rule coverage, exits 0', async () => {
    expect(await main(['test', 'rules/graduated-postpaid.json', scenarios])).toBe(0);
    expect(out).toMatch(/^pass {2}trip: welcome/m);
    expect(out).toMatch(/^ {2}bill-care-100 +1$/m);
    expect(out).toContain('5 passed, 0 failed');
  });

  it('reports a failing scenario and the rules no scenario fired, exits 1', async () => {
    const spec = JSON.parse(readFileSync(scenarios, 'utf8'));
    spec.scenarios = [spec.scenarios[0]];
    spec.scenarios[0].expect[1].actions = ['notify:bill-warn-80'];
    const file = write('failing.scenarios.json', JSON.stringify(spec));
    expect(await main(['test', 'rules/graduated-postpaid.json', file])).toBe(1);
    expect(out).toContain('FAIL  trip: welcome');
    expect(out).toContain('after u1: expected [notify:bill-warn-80], got [notify:roaming-data-warn-80]');
    expect(out).toContain(
      'rules no scenario fired: bill-warn-80, bill-offer-100, bill-block-roaming-data-100, bill-care-100',
    );
  });

  it('--json gives passed, failed, coverage and the unfired rules', async () => {
    expect(await main(['test', '--json', 'rules/graduated-postpaid.json', scenarios])).toBe(0);
    expect(JSON.parse(out)).toMatchObject({
      passed: 5,
      failed: 0,
      unfired: [],
      coverage: { 'bill-care-100': 1 },
    });
  });

  it('exits 2 for a file that is not a scenario file', async () => {
    const file = write('not-scenarios.json', '{"policy": 1}');
    expect(await main(['test', 'rules/graduated-postpaid.json', file])).toBe(2);
    expect(err).toContain('not a scenario file');
  });
});

describe('spendcap check: policy analysis', () => {
  it('warns about the legacy example with file:line:column and exits 1; --no-analyze only checks validity', async () => {
    const file = 'examples/legacy-account-block.json';
    expect(await main(['check', file])).toBe(1);
    const lines = readFileSync(file, 'utf8').split('\n');
    const rule = lines.findIndex((l) => l.includes('"name": "block-account"'));
    // The rule object starts on the line before its name.
    expect(out).toContain(`${file}:${rule}:5: warning untold_restriction at $.rules[0]`);
    expect(out).toContain('warning block_before_warning at $.rules[0]');
    expect(out).toMatch(
      /warning home_restricted at \$\.rules\[0\]\.event: .*spend abroad can cut services at home/,
    );
    expect(out).toContain('1 file(s): 0 error(s), 3 warning(s)');
    out = '';
    expect(await main(['check', '--no-analyze', file])).toBe(0);
    expect(out).toContain(`${file}: ok`);
  });

  it('analyses the shipped packs and finds nothing', async () => {
    expect(
      await main([
        'check',
        'rules/eu-roaming-data.json',
        'rules/graduated-postpaid.json',
        'rules/us-usage-alerts.json',
      ]),
    ).toBe(0);
    expect(out).toContain('3 file(s): 0 error(s), 0 warning(s)');
  });
});

describe('JSON sources', () => {
  it('numbers the elements of a top-level array by the line each starts on, in one pass', async () => {
    const { parseJsonSource } = await import('../../src/cli/locate');
    const source = parseJsonSource('[\n  {"a": 1},\n\n  {"b": [\n 2\n]}, 3\n]');
    expect(source.elementLines()).toEqual([2, 4, 6]);
    expect(source.elementLines()).toEqual([2, 4, 6].map((_, i) => source.locate(`$[${i}]`).line));
    expect(parseJsonSource('{"a": 1}').elementLines()).toEqual([]);
  });
});
