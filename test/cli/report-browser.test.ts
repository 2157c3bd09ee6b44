import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateW1 } from '../../bench/workload.mjs';

// The simulation report opened in a real headless Chromium (Debian's `chromium`, which `.ci/run`
// installs when it is missing). Off CI, without a Chromium, the test is skipped and says so.
const chromium = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
const haveChromium = existsSync(chromium);
const artifacts = resolve('test-artifacts');
mkdirSync(artifacts, { recursive: true });

function browse(page: string, ...flags: string[]) {
  const r = spawnSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--enable-logging=stderr',
      '--v=0',
      ...flags,
      `file://${page}`,
    ],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.error !== undefined) throw r.error;
  // Console messages (console.error, uncaught exceptions, refused resources) as Chromium logs them.
  const console = r.stderr.split('\n').filter((l) => l.includes(':CONSOLE'));
  return { dom: r.stdout, console, status: r.status };
}

describe.skipIf(!haveChromium && !process.env['CI'])('simulate --report in a headless Chromium', () => {
  it('loads without console errors and shows a timeline per subscriber and cap', () => {
    expect(haveChromium, `no Chromium at ${chromium} (set CHROMIUM or install Debian's chromium)`).toBe(true);
    const { profiles, events } = generateW1({ subscribers: 300, events: 4000, seed: 7 });
    const eventsFile = resolve(artifacts, 'report-events.ndjson');
    const profilesFile = resolve(artifacts, 'report-profiles.json');
    writeFileSync(eventsFile, events.map((e: unknown) => JSON.stringify(e)).join('\n'));
    writeFileSync(profilesFile, JSON.stringify(profiles));
    const page = resolve(artifacts, 'report.html');
    const sim = spawnSync(
      process.execPath,
      [
        'dist/cli.js',
        'simulate',
        '--no-decisions',
        '--json',
        'rules/graduated-postpaid.json',
        eventsFile,
        '--profiles',
        profilesFile,
        '--report',
        page,
        '--report-limit',
        '12',
      ],
      { encoding: 'utf8' },
    );
    expect(sim.status, sim.stderr).toBe(0);
    const summary = JSON.parse(sim.stdout.trim()).summary;
    expect(summary.subscribersRestricted).toBeGreaterThan(0);
    const html = readFileSync(page, 'utf8');
    // Self-contained: nothing fetched from anywhere.
    expect(html).not.toMatch(/\b(src|href)=["']?(https?:)?\/\//);

    const { dom, console } = browse(page, '--dump-dom');
    expect(console).toEqual([]);
    // The page's own script ran and counted the timelines it drew: 12 subscribers, 2 caps each.
    expect(dom).toContain('data-timelines="24"');
    const sections = dom.match(/<section class="subscriber" data-subscriber="[^"]+">/g) ?? [];
    expect(sections).toHaveLength(12);
    // Restricted subscribers come first, and their charts show the restriction bands and notices.
    const firstSection = dom.slice(dom.indexOf('<section class="subscriber"'));
    const bands = [...firstSection.matchAll(/data-bands="(\d+)"/g)].map((m) => Number(m[1]));
    expect(bands.slice(0, 2).some((n) => n > 0)).toBe(true);
    expect(firstSection).toMatch(/<rect class="band"/);
    expect(firstSection).toMatch(/<circle class="notice"/);
    expect(firstSection).toMatch(/<path class="spend" d="M[\d.]+,[\d.]+/);
    // Every threshold the caps' rules name is drawn (roaming data: 80 % and 100 %; the bill likewise).
    expect([...dom.matchAll(/data-thresholds="(\d+)"/g)].every((m) => m[1] === '2')).toBe(true);
    expect(dom).toContain('<td>roaming-data-block-100</td><td>block</td>');

    const shot = resolve(artifacts, 'report.png');
    browse(page, '--hide-scrollbars', '--window-size=1000,2400', `--screenshot=${shot}`);
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
  });

  it('would see a console error: the check above can fail', () => {
    expect(haveChromium).toBe(true);
    const page = resolve(artifacts, 'report-broken.html');
    writeFileSync(
      page,
      '<!doctype html><title>x</title><script>console.error("broken on purpose"); null.x;</script>',
    );
    const { console } = browse(page, '--dump-dom');
    expect(console.join('\n')).toContain('broken on purpose');
    expect(console.join('\n')).toMatch(/Uncaught TypeError/);
  });
});
