import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The README's analyst walkthrough, run as written: the figures it quotes are the CLI's.
const root = resolve('.');
const readme = readFileSync('README.md', 'utf8');
const walkthrough = readme.slice(
  readme.indexOf("### An analyst's walkthrough"),
  readme.indexOf('### Property tests'),
);

function run(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("README: an analyst's walkthrough", () => {
  it('gives the output the commands give', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spendcap-walk-'));
    expect(run(dir, [join(root, 'examples/analyst/make-log.mjs')]).code).toBe(0);
    const policy = JSON.parse(readFileSync('rules/graduated-postpaid.json', 'utf8'));
    policy.rules.find((r: { name: string }) => r.name === 'roaming-data-warn-80').conditions.all[0].value =
      0.6;
    writeFileSync(join(dir, 'my-policy.json'), JSON.stringify(policy, null, 2));
    const cli = join(root, 'dist/cli.js');
    const check = run(dir, [cli, 'check', 'my-policy.json']);
    expect(check.code).toBe(0);
    expect(walkthrough).toContain(check.out.trim());

    const diff = run(dir, [
      cli,
      'diff',
      join(root, 'rules/graduated-postpaid.json'),
      'my-policy.json',
      '--events',
      'last-month.ndjson',
      '--profiles',
      'profiles.json',
      '--sample',
      '2',
    ]);
    expect(diff.code).toBe(1);
    // Every line the README quotes after the first (which names the files) is the CLI's.
    const lines = diff.out.trim().split('\n').slice(1, 9);
    for (const line of lines) expect(walkthrough, line).toContain(line);

    const sim = run(dir, [
      cli,
      'simulate',
      'my-policy.json',
      'last-month.ndjson',
      '--profiles',
      'profiles.json',
      '--no-decisions',
      '--report',
      'report.html',
    ]);
    expect(sim.code).toBe(0);
    expect(sim.err).toMatch(/report: report.html \(50 subscriber timeline\(s\)\)/);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<svg');
  });
});
