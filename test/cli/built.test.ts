import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shippedPolicyJson } from '../support/fixtures';

// The built CLI, run as a user runs it: `node dist/cli.js ...` in a child process (test/global-build.ts
// builds dist/ when it is missing or stale).
const dir = mkdtempSync(join(tmpdir(), 'spendcap-built-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

function cli(args: readonly string[], input?: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['dist/cli.js', ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const policy = 'rules/graduated-postpaid.json';
const tripEvents = JSON.parse(readFileSync('examples/roaming-trip/events.json', 'utf8')) as Record<
  string,
  unknown
>[];
const tripNdjson = file('trip.ndjson', tripEvents.map((e) => JSON.stringify(e)).join('\n') + '\n');
const profiles = 'examples/roaming-trip/profile.json';

describe('the built CLI', () => {
  it('has --help for every command, and exits 2 on a usage error', () => {
    for (const command of ['check', 'test', 'simulate', 'diff', 'explain', 'schema']) {
      const r = cli([command, '--help']);
      expect(r.code, command).toBe(0);
      expect(r.out, command).toContain(`Usage: spendcap ${command}`);
      expect(r.out, command).toContain('--json');
    }
    const top = cli(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['check', 'test', 'simulate', 'diff', 'explain', 'schema'])
      expect(top.out).toContain(command);
    expect(cli(['nosuch']).code).toBe(2);
    expect(cli(['simulate', policy]).code).toBe(2); // missing <events>
  });

  it('check: exit 0 on the shipped packs, 1 with warnings on the legacy example, --json for machines', () => {
    expect(cli(['check', 'rules/eu-roaming-data.json', policy, 'rules/us-usage-alerts.json']).code).toBe(0);
    const legacy = cli(['check', '--json', 'examples/legacy-account-block.json']);
    expect(legacy.code).toBe(1);
    const report = JSON.parse(legacy.out);
    expect(report.warnings).toBe(3);
    expect(report.files[0].issues.map((i: { code: string }) => i.code).sort()).toEqual([
      'block_before_warning',
      'home_restricted',
      'untold_restriction',
    ]);
    expect(report.files[0].issues[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
    expect(cli(['check', join(dir, 'missing.json')]).code).toBe(2);
  });

  it('schema prints the policy JSON Schema', () => {
    const r = cli(['schema']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual(JSON.parse(readFileSync('schema/policy.schema.json', 'utf8')));
  });

  it('test runs scenario files with a coverage table', () => {
    const r = cli(['test', policy, 'test/rules/graduated-postpaid.scenarios.json']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/rule coverage/);
    expect(r.out).toMatch(/\d+ passed, 0 failed/);
  });

  it('simulate reads NDJSON from stdin, prints NDJSON decisions in input order and a summary', () => {
    const r = cli(['simulate', policy, '-', '--profiles', profiles], readFileSync(tripNdjson, 'utf8'));
    expect(r.code).toBe(0);
    const decisions = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(decisions.map((d) => d.eventId)).toEqual(tripEvents.map((e) => e.id));
    expect(decisions.map((d) => d.line)).toEqual(tripEvents.map((_, i) => i + 1));
    const kinds = decisions.flatMap((d) => d.actions.map((a: { kind: string }) => a.kind));
    expect(kinds).toContain('block');
    expect(kinds).toContain('unblock');
    // The summary counts what the decisions hold.
    const count = (kind: string) => kinds.filter((k) => k === kind).length;
    expect(r.err).toContain(`block ${count('block')}, unblock ${count('unblock')}`);
    expect(r.err).toMatch(/restricted at some point: 1, hours restricted: \d+(\.\d+)?/);
  });

  it('simulate --json: the summary as the last line; a line that is not JSON is reported, not dropped (exit 2)', () => {
    const lines = tripEvents.map((e) => JSON.stringify(e));
    lines.splice(3, 0, '{"type": "usage", "id": oops}');
    const bad = file('bad.ndjson', lines.join('\n'));
    const r = cli(['simulate', '--json', policy, bad, '--profiles', profiles]);
    expect(r.code).toBe(2);
    const out = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const summary = out.at(-1).summary;
    expect(summary.events).toBe(tripEvents.length + 1);
    expect(summary.unreadable).toBe(1);
    const rejected = out.find((d) => d.line === 4);
    expect(rejected.outcome).toBe('rejected');
    expect(rejected.issues[0].message).toMatch(
      new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: invalid JSON`),
    );
    expect(r.err).toContain(`${bad}:4:`);
  });

  it('simulate exits 1 when the engine rejects an event, with its issues', () => {
    const events = [...tripEvents, { ...tripEvents[0], id: 'x-1', cost: { amount: 5, currency: 'EUR' } }];
    const r = cli(['simulate', policy, file('eur.json', JSON.stringify(events)), '--profiles', profiles]);
    expect(r.code).toBe(1);
    const last = JSON.parse(r.out.trim().split('\n').at(-1)!);
    expect(last.outcome).toBe('rejected');
    expect(last.issues[0].code).toBe('currency_mismatch');
  });

  it('diff: identical policies change nothing (exit 0); a lower warning threshold adds warnings (exit 1)', () => {
    const same = cli(['diff', policy, policy, '--events', tripNdjson, '--profiles', profiles, '--json']);
    expect(same.code).toBe(0);
    expect(JSON.parse(same.out)).toMatchObject({
      decisionsChanged: 0,
      subscribersChanged: 0,
      added: {},
      removed: {},
    });
    const doc = shippedPolicyJson();
    const warn = doc.rules.find((r: { name: string }) => r.name === 'roaming-data-warn-80');
    warn.conditions.all[0].value = 0.3;
    const changed = file('lower-warning.json', JSON.stringify(doc));
    const r = cli(['diff', policy, changed, '--events', tripNdjson, '--profiles', profiles, '--json']);
    expect(r.code).toBe(1);
    const d = JSON.parse(r.out);
    expect(d.subscribersChanged).toBe(1);
    expect(d.subscribers).toEqual(['pl-48601000001']);
    // The warning moves to an earlier event: one added there, one removed later.
    expect(d.added['notify roaming-data-warn-80 (roaming-data)']).toBe(1);
    expect(d.removed['notify roaming-data-warn-80 (roaming-data)']).toBe(1);
    expect(d.firstDifferences[0].new.actions).toContain('notify roaming-data-warn-80 (roaming-data)');
    const text = cli(['diff', policy, changed, '--events', tripNdjson, '--profiles', profiles]);
    expect(text.out).toContain('subscribers whose decisions change: 1');
    expect(text.out).toContain('first difference for pl-48601000001');
  });

  it('explain says why a stored state is restricted (exit 1) and what lifts it', () => {
    const r = cli(['simulate', policy, tripNdjson, '--profiles', profiles]);
    const decisions = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const blockedAt = decisions.findIndex((d) => d.actions.some((a: { kind: string }) => a.kind === 'block'));
    expect(blockedAt).toBeGreaterThan(0);
    // Replay up to the block in process of its own, and keep the state as storage would.
    const upTo = file(
      'upto.ndjson',
      tripEvents
        .slice(0, blockedAt + 1)
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const script = `import { createEngine, loadPolicy } from './dist/index.js';
      import { readFileSync } from 'node:fs';
      const engine = createEngine(loadPolicy(JSON.parse(readFileSync('${policy}', 'utf8'))));
      const { states } = await engine.run(readFileSync('${upTo}', 'utf8').trim().split('\\n').map(JSON.parse), [JSON.parse(readFileSync('${profiles}', 'utf8'))]);
      process.stdout.write(JSON.stringify(Object.values(states)[0]));`;
    const state = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    }).stdout;
    const stateFile = file('state.json', state);
    const e = cli(['explain', policy, stateFile]);
    expect(e.code).toBe(1);
    expect(e.out).toMatch(/is blocked since .* because usage is at \d+% of the roaming data limit/);
    expect(e.out).toContain('to lift it, pay');
    const j = JSON.parse(cli(['explain', '--json', policy, stateFile]).out);
    expect(j.restricted).toBe(true);
    expect(j.restrictions[0].lift.payment).toBeGreaterThan(0);
  });

  it('draws a progress bar on stderr for over 100,000 events on a terminal, and never off one', () => {
    const profile = JSON.parse(readFileSync(profiles, 'utf8'));
    const events: string[] = [];
    for (let i = 0; i < 100_001; i++)
      events.push(
        JSON.stringify({
          type: 'tick',
          id: `t${i}`,
          subscriberId: profile.subscriberId,
          at: new Date(Date.UTC(2026, 10, 2) + i * 1000).toISOString(),
        }),
      );
    const big = file('big.ndjson', events.join('\n'));
    const piped = cli(['simulate', '--no-decisions', policy, big, '--profiles', profiles]);
    expect(piped.code).toBe(0);
    expect(piped.err).not.toContain('[#');
    // A real terminal: `script` gives the CLI a pseudo-TTY for stderr.
    const tty = spawnSync(
      'script',
      [
        '-qec',
        `${process.execPath} dist/cli.js simulate --no-decisions ${policy} ${big} --profiles ${profiles}`,
        '/dev/null',
      ],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    if (tty.error !== undefined) throw tty.error;
    expect(tty.stdout).toMatch(/simulate \[#+-*\] \d+% \d+\/100001 events/);
    expect(tty.stdout).toContain('100% 100001/100001 events');
  });
});

describe('the built CLI on a state that is not one', () => {
  it('explain names file:line:column and the path of what is wrong (exit 2)', () => {
    const bad = file('not-a-state.json', '{\n  "version": 9\n}');
    const r = cli(['explain', policy, bad]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}:2:14: $.state.version: state version 9 was written by a newer spendcap`);
  });
});
