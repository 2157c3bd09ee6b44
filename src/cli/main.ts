import { writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import {
  runScenario,
  ScenarioFileSchema,
  analyzePolicy,
  checkPolicy,
  createEngine,
  loadPolicy,
  policyJsonSchema,
  type Issue,
  type Policy,
  SpendcapError,
} from '../index.js';
import { parseJsonSource, type JsonSource } from './locate.js';
import {
  InputFailure,
  MAX_POLICY_BYTES,
  readInput,
  readProfiles,
  readRecords,
  replay,
  scopeKey,
  summarize,
  summaryText,
  type LineDecision,
} from './replay.js';
import { renderReport } from './report.js';
import { publishCommand, workerCommand } from './cluster.js';
import type { Action } from '../schema/actions.js';

/** Exit codes: 0 ok, 1 findings or failures, 2 usage or input error. */
const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/** A document the CLI parses whole, refused before parsing when larger than any such document can be. */
function readDocument(file: string, what: string): string {
  const text = readInput(file);
  if (text.length > MAX_POLICY_BYTES)
    throw new InputFailure(
      `${file}: ${text.length} characters; a ${what} file is at most ${MAX_POLICY_BYTES}`,
    );
  return text;
}

/** A JSON document, parsed with its positions; its first syntax error as file:line:column. */
function readJsonSource(file: string, what: string): JsonSource {
  const source = parseJsonSource(readDocument(file, what));
  const first = source.errors[0];
  if (first !== undefined)
    throw new InputFailure(
      `${file}:${first.position.line}:${first.position.column}: invalid JSON: ${first.message}`,
    );
  return source;
}

function readJson(file: string): unknown {
  return readJsonSource(file, 'policy, scenario or state').value;
}

const KEY_CODES = new Set(['unknown_key', 'forbidden_key']);

/** Where an issue is: at the key for an unknown or refused key, else at the value. */
function positionOf(source: JsonSource, issue: Issue) {
  return source.locate(issue.path, KEY_CODES.has(issue.code));
}

function formatIssue(file: string, issue: Issue, source: JsonSource): string {
  const { line, column } = positionOf(source, issue);
  return `${file}:${line}:${column}: ${issue.severity} ${issue.code} at ${issue.path}: ${issue.message}`;
}

/** A policy file, loaded; its issues as file:line:column when it does not load. */
function loadPolicyFile(file: string): Policy {
  const source = readJsonSource(file, 'policy');
  const checked = checkPolicy(source.value);
  if (checked.policy === undefined)
    throw new InputFailure(
      `the policy does not load:\n${checked.issues
        .filter((i) => i.severity === 'error')
        .map((i) => formatIssue(file, i, source))
        .join('\n')}`,
    );
  return checked.policy;
}

function checkCommand(files: string[], options: { json?: boolean; analyze?: boolean }): number {
  let errors = 0;
  let warnings = 0;
  const results: unknown[] = [];
  for (const file of files) {
    const text = readDocument(file, 'policy');
    const source = parseJsonSource(text);
    if (source.errors.length > 0) {
      errors += source.errors.length;
      const issues = source.errors.map((e) => ({
        code: 'invalid_format',
        path: '$',
        message: `invalid JSON: ${e.message}`,
        severity: 'error',
        line: e.position.line,
        column: e.position.column,
      }));
      if (options.json) results.push({ file, ok: false, issues });
      else
        for (const i of issues)
          process.stdout.write(`${file}:${i.line}:${i.column}: error invalid_format: ${i.message}\n`);
      continue;
    }
    const checked = checkPolicy(source.value);
    // A policy that loads is also analysed: what its rules can do, over every cell of its facts.
    const analysis =
      checked.policy !== undefined && options.analyze !== false ? analyzePolicy(checked.policy) : [];
    const report = { ok: checked.ok, issues: [...checked.issues, ...analysis] };
    errors += report.issues.filter((i) => i.severity === 'error').length;
    warnings += report.issues.filter((i) => i.severity === 'warning').length;
    if (options.json) {
      results.push({
        file,
        ok: report.ok,
        issues: report.issues.map((i) => ({ ...i, ...positionOf(source, i) })),
      });
    } else {
      for (const issue of report.issues) process.stdout.write(`${formatIssue(file, issue, source)}\n`);
      if (report.issues.length === 0) process.stdout.write(`${file}: ok\n`);
    }
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ errors, warnings, files: results })}\n`);
  else process.stdout.write(`${files.length} file(s): ${errors} error(s), ${warnings} warning(s)\n`);
  return errors + warnings > 0 ? EXIT.findings : EXIT.ok;
}

function schemaCommand(options: { out?: string }): number {
  const text = `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
  if (options.out !== undefined) writeFileSync(options.out, text);
  else process.stdout.write(text);
  return EXIT.ok;
}

async function testCommand(
  policyFile: string,
  scenarioFiles: string[],
  options: { json?: boolean },
): Promise<number> {
  const policy = loadPolicy(readJson(policyFile));
  const engine = createEngine(policy);
  const rules = [...policy.caplessRules, ...policy.caps.flatMap((c) => c.rules)].map((r) => r.name);
  const fired = new Map<string, number>(rules.map((r) => [r, 0]));
  const results: { file: string; name: string; passed: boolean; failures: readonly string[] }[] = [];
  for (const file of scenarioFiles) {
    const raw = readJson(file);
    const parsed = ScenarioFileSchema.safeParse(raw);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new InputFailure(
        `${file}: not a scenario file: ${first?.path.join('.') ?? ''} ${first?.message ?? ''}`,
      );
    }
    for (const scenario of parsed.data.scenarios) {
      const result = await runScenario(engine, parsed.data.profile, scenario);
      for (const rule of result.fired) fired.set(rule, (fired.get(rule) ?? 0) + 1);
      results.push({ file, name: result.name, passed: result.passed, failures: result.failures });
    }
  }
  const failed = results.filter((r) => !r.passed).length;
  const unfired = rules.filter((r) => fired.get(r) === 0);
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ passed: results.length - failed, failed, scenarios: results, coverage: Object.fromEntries(fired), unfired })}\n`,
    );
  } else {
    for (const r of results) {
      process.stdout.write(`${r.passed ? 'pass' : 'FAIL'}  ${r.name}  (${r.file})\n`);
      for (const failure of r.failures) process.stdout.write(`      ${failure}\n`);
    }
    process.stdout.write('\nrule coverage (scenarios in which the rule acted):\n');
    const width = Math.max(...rules.map((r) => r.length), 4);
    for (const rule of rules) process.stdout.write(`  ${rule.padEnd(width)}  ${fired.get(rule)}\n`);
    if (unfired.length > 0) process.stdout.write(`rules no scenario fired: ${unfired.join(', ')}\n`);
    process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
  }
  return failed > 0 ? EXIT.findings : EXIT.ok;
}

function explainCommand(policyFile: string, stateFile: string, options: { json?: boolean }): number {
  const engine = createEngine(loadPolicy(readJson(policyFile)));
  const source = readJsonSource(stateFile, 'state');
  let explanation;
  try {
    // The engine checks a stored state whole (version, policy, shape) and says what is wrong where.
    explanation = engine.explain(source.value as never);
  } catch (error) {
    const issues = (error as { issues?: readonly Issue[] }).issues;
    if (issues === undefined) throw error;
    const lines = issues.slice(0, 5).map((i) => {
      const { line, column } = source.locate(i.path.replace(/^\$\.state/, '$'));
      return `${stateFile}:${line}:${column}: ${i.path}: ${i.message}`;
    });
    throw new InputFailure(`not a spendcap state of this policy:\n${lines.join('\n')}`);
  }
  process.stdout.write(options.json ? `${JSON.stringify(explanation)}\n` : `${explanation.text}\n`);
  return explanation.restricted ? EXIT.findings : EXIT.ok;
}

interface SimulateOptions {
  readonly profiles?: string;
  readonly report?: string;
  readonly reportLimit?: string;
  readonly decisions?: boolean;
  readonly json?: boolean;
}

function needProfiles(file: string | undefined): string {
  if (file === undefined)
    throw new InputFailure('--profiles <file> is required: the events need their subscribers');
  return file;
}

function positiveInt(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InputFailure(`${name} must be a whole number of 1 or more, found '${value}'`);
  return n;
}

async function simulateCommand(
  policyFile: string,
  eventsFile: string,
  options: SimulateOptions,
): Promise<number> {
  const policy = loadPolicy(readJson(policyFile));
  const engine = createEngine(policy);
  const profiles = readProfiles(needProfiles(options.profiles));
  const limit = positiveInt(options.reportLimit, '--report-limit', 50);
  const records = readRecords(eventsFile);
  const { decisions, states } = await replay(engine, records, profiles, 'simulate');
  const summary = summarize(decisions, states);
  if (options.decisions !== false) {
    // Decisions as NDJSON, in input order, each with the line of its event.
    const chunks: string[] = [];
    for (const d of decisions) {
      chunks.push(JSON.stringify(d));
      if (chunks.length >= 1000) {
        process.stdout.write(`${chunks.join('\n')}\n`);
        chunks.length = 0;
      }
    }
    if (chunks.length > 0) process.stdout.write(`${chunks.join('\n')}\n`);
  }
  if (options.json) process.stdout.write(`${JSON.stringify({ summary })}\n`);
  else process.stderr.write(summaryText(summary));
  for (const d of decisions)
    if (d.eventId === null && d.issues?.[0]?.code === 'invalid_format')
      process.stderr.write(`${d.issues[0].message}\n`);
  if (options.report !== undefined) {
    const { html, subscribers } = await renderReport({
      engine,
      policy,
      records,
      profiles,
      decisions,
      summary,
      limit,
    });
    writeFileSync(options.report, html);
    process.stderr.write(`report: ${options.report} (${subscribers} subscriber timeline(s))\n`);
  }
  if (summary.unreadable > 0) return EXIT.usage;
  return summary.outcomes['rejected']! > 0 ? EXIT.findings : EXIT.ok;
}

/** What an action is, for comparing two policies' decisions (ids and texts aside). */
function signature(a: Action): string {
  const scope = scopeKey(a);
  return `${a.kind} ${a.ruleId}${a.capId === null ? '' : ` (${a.capId})`}${scope === '' ? '' : ` [${scope}]`}`;
}

const brief = (d: LineDecision) => ({ outcome: d.outcome, actions: d.actions.map(signature) });

async function diffCommand(
  oldFile: string,
  newFile: string,
  options: { events?: string; profiles?: string; sample?: string; json?: boolean },
): Promise<number> {
  if (options.events === undefined) throw new InputFailure('--events <file> is required: the log to replay');
  const before = createEngine(loadPolicy(readJson(oldFile)));
  const after = createEngine(loadPolicy(readJson(newFile)));
  const profiles = readProfiles(needProfiles(options.profiles));
  const sample = positiveInt(options.sample, '--sample', 5);
  const records = readRecords(options.events);
  const a = (await replay(before, records, profiles, 'diff: old')).decisions;
  const b = (await replay(after, records, profiles, 'diff: new')).decisions;
  const changed = new Map<string, { line: number; eventId: string | null; old: unknown; new: unknown }>();
  const added: Record<string, number> = {};
  const removed: Record<string, number> = {};
  let decisionsChanged = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    const xs = x.actions.map(signature);
    const ys = y.actions.map(signature);
    if (x.outcome === y.outcome && xs.join('\n') === ys.join('\n')) continue;
    decisionsChanged++;
    const left = [...xs];
    for (const sig of ys) {
      const k = left.indexOf(sig);
      if (k >= 0) left.splice(k, 1);
      else added[sig] = (added[sig] ?? 0) + 1;
    }
    for (const sig of left) removed[sig] = (removed[sig] ?? 0) + 1;
    const id = x.subscriberId ?? `(line ${x.line})`;
    if (!changed.has(id)) changed.set(id, { line: x.line, eventId: x.eventId, old: brief(x), new: brief(y) });
  }
  const ids = [...changed.keys()].sort();
  const firsts = ids.slice(0, sample).map((id) => ({ subscriberId: id, ...changed.get(id)! }));
  const result = {
    events: a.length,
    decisionsChanged,
    subscribersChanged: ids.length,
    subscribers: ids,
    added,
    removed,
    firstDifferences: firsts,
  };
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const lines: string[] = [];
    lines.push(`${a.length} events replayed under ${oldFile} and ${newFile}`);
    lines.push(
      `decisions that change: ${decisionsChanged}; subscribers whose decisions change: ${ids.length}`,
    );
    const counts = (r: Record<string, number>) => Object.entries(r).sort(([p], [q]) => (p < q ? -1 : 1));
    if (Object.keys(added).length > 0) {
      lines.push('added actions (kind rule (cap) [scope]):');
      for (const [k, n] of counts(added)) lines.push(`  + ${n}  ${k}`);
    }
    if (Object.keys(removed).length > 0) {
      lines.push('removed actions:');
      for (const [k, n] of counts(removed)) lines.push(`  - ${n}  ${k}`);
    }
    for (const f of firsts) {
      const show = (d: unknown) => {
        const { outcome, actions } = d as { outcome: string; actions: string[] };
        return `${outcome}${actions.length > 0 ? `: ${actions.join('; ')}` : ', no action'}`;
      };
      lines.push(`first difference for ${f.subscriberId} (line ${f.line}, event ${f.eventId ?? '?'}):`);
      lines.push(`    old  ${show(f.old)}`);
      lines.push(`    new  ${show(f.new)}`);
    }
    if (ids.length > firsts.length)
      lines.push(`(${ids.length - firsts.length} more subscriber(s); --sample N or --json for all)`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return ids.length > 0 ? EXIT.findings : EXIT.ok;
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('spendcap')
    .description('Spend-cap decisions from declarative JSON policies.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program
    .command('check')
    .description(
      'Check policy files: every issue as file:line:column, JSON path, message; then analyse what each valid policy can do, over every cell of its facts (warnings). Exit 1 on any finding.',
    )
    .argument('<policy...>', 'policy JSON files')
    .option('--json', 'one JSON object on stdout')
    .option(
      '--no-analyze',
      'only check validity: skip the analysis of what the rules can do (never-firing rules, restrictions with no way out, ...)',
    )
    .action((files: string[], options: { json?: boolean; analyze?: boolean }) => {
      code = checkCommand(files, options);
    });
  program
    .command('schema')
    .description('Print the policy JSON Schema (generated from the zod schemas).')
    .option('--out <file>', 'write it to a file instead')
    .option('--json', 'accepted for symmetry: the output is JSON already')
    .action((options: { out?: string }) => {
      code = schemaCommand(options);
    });
  program
    .command('test')
    .description(
      'Run scenario files against a policy: pass/fail per scenario, and which rules no scenario fired. Exit 1 on a failure.',
    )
    .argument('<policy>', 'policy JSON file')
    .argument('<scenarios...>', 'scenario JSON files (see README "Scenarios")')
    .option('--json', 'one JSON object on stdout')
    .action(async (policyFile: string, scenarioFiles: string[], options: { json?: boolean }) => {
      code = await testCommand(policyFile, scenarioFiles, options);
    });
  program
    .command('explain')
    .description(
      'Why a stored subscriber state is restricted now, and what lifts it. Exit 1 when restricted.',
    )
    .argument('<policy>', 'policy JSON file')
    .argument('<state>', 'state JSON file (as stored from decision.state)')
    .option('--json', 'the whole explanation as JSON')
    .action((policyFile: string, stateFile: string, options: { json?: boolean }) => {
      code = explainCommand(policyFile, stateFile, options);
    });
  program
    .command('simulate')
    .description(
      'Replay an event log under a policy: decisions as NDJSON on stdout (each with its input line), a summary on stderr (actions by kind and rule, subscribers restricted, hours restricted), and with --report one self-contained HTML page of timelines. Exit 1 when an event is rejected, 2 when a line is not JSON.',
    )
    .argument('<policy>', 'policy JSON file')
    .argument('<events>', "events: NDJSON (one per line) or a JSON array; '-' reads standard input")
    .option('--profiles <file>', 'subscriber profiles: a JSON array, NDJSON, or an object keyed by id')
    .option(
      '--report <out.html>',
      'write an HTML report: per subscriber, spend against thresholds, restrictions, notices',
    )
    .option('--report-limit <n>', 'subscribers in the report (those with restrictions first)', '50')
    .option('--no-decisions', 'print only the summary')
    .option('--json', 'the summary as one JSON line {"summary": ...} on stdout, after the decisions')
    .action(async (policyFile: string, eventsFile: string, options: SimulateOptions) => {
      code = await simulateCommand(policyFile, eventsFile, options);
    });
  program
    .command('diff')
    .description(
      'Replay an event log under two policies and report what changes: the subscribers whose decisions change, actions added and removed by kind and rule, and the first differing decision for a sample. Exit 1 when anything changes.',
    )
    .argument('<old>', 'policy JSON file in force')
    .argument('<new>', 'policy JSON file proposed')
    .option('--events <file>', "the log: NDJSON or a JSON array; '-' reads standard input")
    .option('--profiles <file>', 'subscriber profiles: a JSON array, NDJSON, or an object keyed by id')
    .option('--sample <n>', 'subscribers whose first difference is shown', '5')
    .option('--json', 'one JSON object on stdout')
    .action(
      async (
        oldFile: string,
        newFile: string,
        options: { events?: string; profiles?: string; sample?: string; json?: boolean },
      ) => {
        code = await diffCommand(oldFile, newFile, options);
      },
    );
  program
    .command('worker')
    .description(
      'Run a worker on Redis Streams: takes a fair share of the shards, decides their events and commits states, actions and acknowledgements atomically. Runs until SIGTERM or SIGINT; progress on stderr.',
    )
    .requiredOption('--redis <url>', 'the Redis server, e.g. redis://127.0.0.1:6379')
    .requiredOption('--policy <file>', 'policy JSON file')
    .requiredOption('--shards <n>', 'input streams (the same for every producer and worker)')
    .option('--group <name>', 'consumer group', 'spendcap')
    .option('--consumer <name>', "this worker's name in the group (default: host name and process id)")
    .option('--prefix <prefix>', 'key prefix', 'spendcap')
    .option('--batch <n>', 'entries decided and committed together', '1000')
    .option('--lease-ms <ms>', "how long a dead worker's shards wait before another takes them over", '10000')
    .option(
      '--trim-input',
      'trim the input streams of the shards held of entries every consumer group has acknowledged',
    )
    .option('--every <seconds>', 'progress line interval', '10')
    .option('--json', 'progress and errors as JSON lines')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const policy = loadPolicyFile(options['policy'] as string);
      code = await workerCommand(policy, {
        redis: options['redis'] as string,
        shards: positiveInt(options['shards'] as string, '--shards', 1),
        group: options['group'] as string,
        ...(options['consumer'] === undefined ? {} : { consumer: options['consumer'] as string }),
        prefix: options['prefix'] as string,
        batch: positiveInt(options['batch'] as string, '--batch', 1000),
        leaseMs: positiveInt(options['leaseMs'] as string, '--lease-ms', 10_000),
        trimInput: options['trimInput'] === true,
        every: positiveInt(options['every'] as string, '--every', 10),
        json: options['json'] === true,
      });
    });
  program
    .command('publish')
    .description(
      'Publish events (and profiles) to the Redis input streams, each to the shard of its subscriber. Anything invalid stops it before that file is written.',
    )
    .argument('[events]', "events: NDJSON or a JSON array; '-' reads standard input")
    .requiredOption('--redis <url>', 'the Redis server, e.g. redis://127.0.0.1:6379')
    .requiredOption('--shards <n>', 'input streams (the same for every producer and worker)')
    .option(
      '--profiles <file>',
      'subscriber profiles to store first: a JSON array, NDJSON, or an object keyed by id',
    )
    .option('--prefix <prefix>', 'key prefix', 'spendcap')
    .option('--json', 'the counts as one JSON object')
    .action(async (eventsFile: string | undefined, options: Record<string, string | boolean | undefined>) => {
      code = await publishCommand(eventsFile, {
        redis: options['redis'] as string,
        shards: positiveInt(options['shards'] as string, '--shards', 1),
        prefix: options['prefix'] as string,
        ...(options['profiles'] === undefined ? {} : { profiles: options['profiles'] as string }),
        json: options['json'] === true,
      });
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof InputFailure) {
      process.stderr.write(`spendcap: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof SpendcapError || (error instanceof Error && 'issues' in error)) {
      process.stderr.write(`spendcap: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  return code;
}
