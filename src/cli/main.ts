import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import {
  runScenario,
  ScenarioFileSchema,
  analyzePolicy,
  checkPolicy,
  createEngine,
  loadPolicy,
  policyJsonSchema,
  SubscriberStateSchema,
  type Issue,
} from '../index.js';
import { parseJsonSource, type JsonSource } from './locate.js';

/** Exit codes: 0 ok, 1 findings or failures, 2 usage or input error. */
const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

class InputFailure extends Error {}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputFailure(
      `${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function readJson(file: string): unknown {
  const source = parseJsonSource(readText(file));
  const first = source.errors[0];
  if (first !== undefined)
    throw new InputFailure(
      `${file}:${first.position.line}:${first.position.column}: invalid JSON: ${first.message}`,
    );
  return source.value;
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

function checkCommand(files: string[], options: { json?: boolean; analyze?: boolean }): number {
  let errors = 0;
  let warnings = 0;
  const results: unknown[] = [];
  for (const file of files) {
    const text = readText(file);
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
  const parsed = SubscriberStateSchema.safeParse(readJson(stateFile));
  if (!parsed.success)
    throw new InputFailure(`${stateFile}: not a spendcap state: ${parsed.error.issues[0]?.message ?? ''}`);
  const explanation = engine.explain(parsed.data);
  process.stdout.write(options.json ? `${JSON.stringify(explanation)}\n` : `${explanation.text}\n`);
  return explanation.restricted ? EXIT.findings : EXIT.ok;
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
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof InputFailure) {
      process.stderr.write(`spendcap: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof Error && 'issues' in error) {
      process.stderr.write(`spendcap: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  return code;
}
