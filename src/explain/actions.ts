import type {
  Action,
  Because,
  ConditionResult,
  NotifyAction,
  Scope,
  UnblockCause,
} from '../schema/actions.js';
import type { Facts } from '../schema/facts.js';
import type { SpendEvent } from '../schema/events.js';
import type { Restriction, SubscriberState } from '../schema/state.js';
import type { LoadedRule, Policy } from '../policy/types.js';
import type { Condition } from '../schema/policy.js';
import type { Evaluation, Fired, Imposed, Lifted, Reconciled } from '../reconcile/reconcile.js';
import { copyConditionValue, explainCondition } from '../rules/conditions.js';
import {
  capAmount,
  describeScope,
  explainConditions,
  formatAmount,
  formatPercent,
  percentOf,
  type DescribeContext,
} from './describe.js';
import { actionId } from './ids.js';
import { liftForScope, type LiftOptions } from './lift.js';
import {
  formatDate,
  formatMoney,
  kept,
  renderTemplate,
  TemplateLookup,
  resolveTemplateText,
  templateParts,
} from './template.js';
import { getOwn } from '../schema/records.js';

/** Built-in English texts for the notices that go with every restriction change. */
export const DEFAULT_NOTICES = {
  restricted: 'Your {scope} is restricted: {reason}. {howToLift}',
  lifted: 'Your {scope} works again: {reason}.',
} as const;

const EXPLAIN_LOCALE = 'en';

/** Everything the builder needs about the decision being made. */
export interface BuildContext {
  readonly policy: Policy;
  readonly state: SubscriberState;
  readonly event: SpendEvent;
  readonly now: number;
}

/** The build context of one `buildActions` call, with the explanations it has worked out so far. */
interface Building extends BuildContext {
  readonly explained: Explained[];
}

/**
 * A condition of an evaluation explained: its leaves with their results, and the reason in words. The
 * rules of a cap often share a condition (a block, its payment offer and its care note at 100 %), and
 * one decision explains it once; each action after the first gets its own copy of the results.
 */
interface Explained {
  readonly evaluation: Evaluation;
  readonly key: string;
  readonly matched: boolean;
  readonly results: ConditionResult[];
  readonly reason: string;
  /** Whether an action holds `results` already (the next one gets a copy). */
  taken: boolean;
}

/** A loaded (frozen) condition's text, as the key under which its explanations are shared. */
const conditionKeys = new WeakMap<Condition, string>();

function conditionKey(condition: Condition): string {
  let key = conditionKeys.get(condition);
  if (key === undefined) conditionKeys.set(condition, (key = JSON.stringify(condition)));
  return key;
}

/**
 * A rule's conditions explained on an evaluation's facts, and the reason they give for a match
 * (`matched`) or for no longer matching: worked out once per decision for each distinct condition.
 */
function explainRule(
  context: Building,
  rule: LoadedRule,
  evaluation: Evaluation,
  matched: boolean,
): { readonly conditions: ConditionResult[]; readonly reason: string } {
  const key = conditionKey(rule.conditions);
  const explained = context.explained;
  for (let i = 0; i < explained.length; i++) {
    const e = explained[i]!;
    if (e.evaluation !== evaluation || e.matched !== matched || e.key !== key) continue;
    if (!e.taken) {
      e.taken = true;
      return { conditions: e.results, reason: e.reason };
    }
    return { conditions: copyResults(e.results), reason: e.reason };
  }
  const results = explainCondition(rule.conditions, evaluation.facts);
  const reason = explainConditions(results, matched, describeContext(context, evaluation));
  explained.push({ evaluation, key, matched, results, reason, taken: true });
  return { conditions: results, reason };
}

/** Condition results an action owns: each result and each list in it copied. */
function copyResults(results: readonly ConditionResult[]): ConditionResult[] {
  const copy = new Array<ConditionResult>(results.length);
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    copy[i] = {
      fact: r.fact,
      operator: r.operator,
      value: copyConditionValue(r.value),
      compareTo: copyConditionValue(r.compareTo),
      factValue: r.factValue,
      result: r.result,
    };
  }
  return copy;
}

function describeContext(context: BuildContext, evaluation: Evaluation | undefined): DescribeContext {
  return { policy: context.policy, cap: evaluation?.cap ?? null, locale: EXPLAIN_LOCALE };
}

function locale(context: BuildContext): string {
  return context.state.profile.locale ?? context.policy.locale;
}

function fillLink(policy: Policy, subscriberId: string, amount: number, id: string): string | undefined {
  const template = policy.document.paymentLink;
  if (template === undefined) return undefined;
  const parts = templateParts(template);
  let link = parts[0]!;
  for (let i = 1; i < parts.length; i += 2) {
    const name = parts[i]!;
    const value =
      name === 'subscriberId'
        ? subscriberId
        : name === 'amount'
          ? String(amount)
          : name === 'actionId'
            ? id
            : '';
    link += (isUrlSafe(value) ? value : encodeURIComponent(value)) + parts[i + 1]!;
  }
  return kept(link);
}

/** Whether `encodeURIComponent(text)` is `text` (letters, digits and `-_.!~*'()` only). */
function isUrlSafe(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (
      !alnum &&
      c !== 0x2d &&
      c !== 0x5f &&
      c !== 0x2e &&
      c !== 0x21 &&
      c !== 0x7e &&
      c !== 0x2a &&
      c !== 0x27 &&
      c !== 0x28 &&
      c !== 0x29
    )
      return false;
  }
  return true;
}

/**
 * `because` for a rule: the facts it saw, every leaf condition with its value and result (as evaluated
 * once for the sentence too), and one sentence.
 */
export function becauseOf(
  rule: LoadedRule,
  facts: Facts,
  conditions: ConditionResult[],
  text: string,
): Because {
  return { ruleName: rule.name, facts: { ...facts }, conditions, text: kept(text) };
}

/**
 * `because` for a rule of an evaluation. It holds the evaluation's own facts, which the actions of
 * that evaluation share (as a restriction and its notice share their `because`) rather than each
 * keeping a copy of twenty-odd facts: an evaluation's facts are made for it alone and nothing changes
 * them after it (the lift analysis asks its what-if questions of a copy).
 */
function becauseOfEvaluation(
  rule: LoadedRule,
  evaluation: Evaluation,
  conditions: ConditionResult[],
  text: string,
): Because {
  return { ruleName: rule.name, facts: evaluation.facts, conditions, text: kept(text) };
}

/**
 * A restriction as the start of a sentence: "Data while roaming (eu, world) is blocked".
 *
 * @example
 * `${describeRestriction(restriction, policy)} because ${reason}.`
 */
export function describeRestriction(restriction: Restriction, policy: Policy): string {
  const verb = restriction.kind === 'block' ? 'is blocked' : `is slowed to ${restriction.kbps} kbps`;
  return `${capitalize(describeScope(restriction.scope, policy))} ${verb}`;
}

/**
 * What lifts a restriction, as a clause to end a sentence with: "to lift it, pay PLN 12.00 at <link>,
 * or opt in to keep using it at the usual rates; otherwise it lifts by itself on 1 Dec 2026".
 *
 * @example
 * `${scope} is blocked because ${reason}; ${describeLift(lift, { currency: 'PLN', timeZone, locale: 'en' })}.`
 */
export function describeLift(
  lift: LiftOptions,
  where: { readonly currency: string; readonly timeZone: string; readonly locale: string },
  link?: string,
): string {
  const ways: string[] = [];
  if (lift.payment !== undefined) {
    ways.push(
      `pay ${formatMoney(lift.payment, where.currency, where.locale)}${link !== undefined ? ` at ${link}` : ''}`,
    );
  }
  if (lift.optIn) ways.push('opt in to keep using it at the usual rates');
  if (lift.returnHome) ways.push('come back home');
  const date =
    lift.windowEnd === undefined ? undefined : formatDate(lift.windowEnd, where.locale, where.timeZone);
  if (ways.length === 0)
    return date === undefined ? 'a care agent can lift it' : `it lifts by itself on ${date}`;
  const text = `to lift it, ${ways.join(', or ')}`;
  return date === undefined ? text : `${text}; otherwise it lifts by itself on ${date}`;
}

function causeText(cause: UnblockCause, context: BuildContext): string {
  const event = context.event;
  const money = (amount: number) => formatMoney(amount, context.policy.currency, EXPLAIN_LOCALE);
  switch (cause) {
    case 'payment':
      return event.type === 'payment'
        ? `a payment of ${money(event.amount)} was received`
        : 'a payment was received';
    case 'credit':
      return event.type === 'adjustment'
        ? `a credit of ${money(-event.amount)} was applied`
        : 'a credit was applied';
    case 'dispute':
      return event.type === 'dispute' ? `dispute ${event.reference} is ${event.status}` : 'a dispute changed';
    case 'window-reset':
      return 'a new window started';
    case 'override':
      return event.type === 'override' && event.by === 'customer'
        ? 'you opted in to continue'
        : 'a care agent lifted it';
    case 'left-zone':
      return `you are now in zone ${context.state.location.zone}`;
    case 'rule-cleared':
      return 'the reason for it no longer holds';
  }
}

function sharedValue(context: BuildContext, evaluation: Evaluation, name: string): string | undefined {
  const f = evaluation.facts;
  const cap = evaluation.cap;
  switch (name) {
    case 'subscriberId':
      return context.state.profile.subscriberId;
    case 'zone':
      return context.state.location.zone;
    case 'service':
      return typeof f.eventService === 'string' ? f.eventService : '';
    case 'capLabel':
      return cap?.label ?? '';
    case 'percent':
      return cap !== null ? String(percentOf(f.usageRatio as number)) : '';
    case 'spend':
      return cap !== null ? capAmount(f.spend as number, cap, context.policy.currency, locale(context)) : '';
    case 'limit':
      return cap !== null ? capAmount(f.limit as number, cap, context.policy.currency, locale(context)) : '';
    case 'remaining':
      return cap !== null
        ? capAmount(Math.max(0, f.remaining as number), cap, context.policy.currency, locale(context))
        : '';
    case 'reference':
      return context.event.type === 'dispute' ? context.event.reference : '';
    default:
      return undefined;
  }
}

/**
 * The values one action's templates may use: its own (those set here), then its evaluation's (facts
 * formatted when a template asks for them; formatted money is kept by `formatMoney`).
 */
class ActionValues extends TemplateLookup {
  scope: string | undefined;
  reason: string | undefined;
  howToLift: string | undefined;
  paymentLink: string | undefined;
  /** The amount to pay, in minor units, formatted in the subscriber's locale when asked for. */
  amount: number | undefined;

  constructor(
    readonly context: BuildContext,
    readonly evaluation: Evaluation | undefined,
  ) {
    super();
    this.scope = undefined;
    this.reason = undefined;
    this.howToLift = undefined;
    this.paymentLink = undefined;
    this.amount = undefined;
  }

  lookup(name: string): string | undefined {
    switch (name) {
      case 'scope':
        if (this.scope !== undefined) return this.scope;
        break;
      case 'reason':
        if (this.reason !== undefined) return this.reason;
        break;
      case 'howToLift':
        if (this.howToLift !== undefined) return this.howToLift;
        break;
      case 'paymentLink':
        if (this.paymentLink !== undefined) return this.paymentLink;
        break;
      case 'amount':
        if (this.amount !== undefined)
          return formatMoney(this.amount, this.context.policy.currency, locale(this.context));
        break;
    }
    return this.evaluation === undefined ? undefined : sharedValue(this.context, this.evaluation, name);
  }
}

function render(
  context: BuildContext,
  templateKey: string | undefined,
  fallback: string,
  values: TemplateLookup,
): string {
  const texts = templateKey === undefined ? undefined : context.policy.document.templates[templateKey];
  const text = (texts === undefined ? undefined : textFor(texts, locale(context))) ?? fallback;
  return renderTemplate(text, values);
}

/** A template's text per locale, resolved once: a loaded policy's templates are frozen. */
const resolvedTexts = new WeakMap<Readonly<Record<string, string>>, Map<string, string | undefined>>();

function textFor(texts: Readonly<Record<string, string>>, locale: string): string | undefined {
  let known = resolvedTexts.get(texts);
  if (known === undefined) resolvedTexts.set(texts, (known = new Map()));
  if (known.has(locale)) return known.get(locale);
  const text = resolveTemplateText(texts, locale);
  // Locales come from profiles: a bounded table, however many a feed brings.
  if (Object.isFrozen(texts) && known.size < 256) known.set(locale, text);
  return text;
}

/** Money owed on a cost cap; 0 for a quantity cap (payments lower only cost caps) or a capless rule. */
function outstandingOf(evaluation: Evaluation): number {
  if (evaluation.cap?.measure !== 'cost') return 0;
  return Math.max(0, (evaluation.facts.outstanding as number | null) ?? 0);
}

/**
 * Turns what reconcile decided into actions, in a fixed order: per cap (in policy order), its fired
 * notices in rule order, then its lifted restrictions, then its imposed ones, each restriction change
 * followed by the notice that tells the subscriber. Evaluations come with the rules without a cap first.
 *
 * @example
 * const actions = buildActions(context, evaluations, reconcile(draft, evaluations, cause, now));
 */
export function buildActions(
  given: BuildContext,
  evaluations: readonly Evaluation[],
  changes: Reconciled,
): Action[] {
  const out: Action[] = [];
  const { fired, lifted, imposed } = changes;
  if (fired.length === 0 && lifted.length === 0 && imposed.length === 0) return out;
  const context: Building = {
    policy: given.policy,
    state: given.state,
    event: given.event,
    now: given.now,
    explained: [],
  };
  for (const evaluation of evaluations) {
    const capId = evaluation.cap?.id ?? null;
    for (const f of fired) if (f.evaluation === evaluation) out.push(noticeAction(context, f));
    for (const l of lifted) if (l.restriction.capId === capId) liftActions(context, l, out);
    for (const i of imposed) if (i.evaluation === evaluation) imposeActions(context, evaluations, i, out);
  }
  // A restriction of a cap the policy no longer has is lifted too, and said so.
  for (const l of lifted) {
    const capId = l.restriction.capId;
    if (!evaluations.some((e) => e.cap?.id === capId)) liftActions(context, l, out);
  }
  return out;
}

function noticeAction(context: Building, { rule, evaluation }: Fired): Action {
  const { conditions, reason } = explainRule(context, rule, evaluation, true);
  const subscriberId = context.state.profile.subscriberId;
  const capId = evaluation.cap?.id ?? null;
  const window = evaluation.window;
  const event = context.event;
  const causeEventId = event.id;
  const ruleId = rule.name;
  const subject = evaluation.cap === null ? '' : ` about ${evaluation.cap.label}`;
  // Each action is built field by field in the order the actions have always had (no spreads, no
  // closures: this runs per action); a notice's optional fields are added after its literal.
  switch (rule.event.type) {
    case 'notify': {
      const params = rule.event.params;
      const template = params.template;
      const id = actionId({ subscriberId, capId, ruleId, window, causeEventId, kind: 'notify', template });
      const amount = outstandingOf(evaluation);
      const link =
        params.paymentLink === true && amount > 0
          ? fillLink(context.policy, subscriberId, amount, id)
          : undefined;
      const values = new ActionValues(context, evaluation);
      values.reason = reason;
      values.paymentLink = link;
      if (amount > 0) values.amount = amount;
      const channels = params.channels === undefined ? ['sms'] : copyList(params.channels);
      const message = render(context, template, '', values);
      const because = becauseOfEvaluation(
        rule,
        evaluation,
        conditions,
        `Notice '${template}' sent${subject} because ${reason}.`,
      );
      const action: Record<string, unknown> = {
        kind: 'notify',
        id,
        subscriberId,
        at: event.at,
        capId,
        ruleId,
        causeEventId,
        channels,
        template,
        message,
      };
      if (link !== undefined) action['paymentLink'] = link;
      if (params.threshold !== undefined) action['threshold'] = params.threshold;
      action['because'] = because;
      return action as Action;
    }
    case 'offerPayment': {
      const id = actionId({ subscriberId, capId, ruleId, window, causeEventId, kind: 'offerPayment' });
      const amount =
        rule.event.params.amount === 'outstanding' ? outstandingOf(evaluation) : rule.event.params.amount;
      const link = fillLink(context.policy, subscriberId, amount, id);
      const money = formatMoney(amount, context.policy.currency, EXPLAIN_LOCALE);
      const currency = context.policy.currency;
      const because = becauseOfEvaluation(
        rule,
        evaluation,
        conditions,
        `A payment of ${money} was offered${subject} because ${reason}.`,
      );
      return (
        link !== undefined
          ? {
              kind: 'offerPayment',
              id,
              subscriberId,
              at: event.at,
              capId,
              ruleId,
              causeEventId,
              amount,
              currency,
              link,
              because,
            }
          : {
              kind: 'offerPayment',
              id,
              subscriberId,
              at: event.at,
              capId,
              ruleId,
              causeEventId,
              amount,
              currency,
              because,
            }
      ) as Action;
    }
    case 'careNote': {
      const params = rule.event.params;
      const template = params.template;
      const id = actionId({ subscriberId, capId, ruleId, window, causeEventId, kind: 'careNote', template });
      let summary: string;
      if (template !== undefined) {
        const values = new ActionValues(context, evaluation);
        values.reason = reason;
        summary = render(context, template, '', values);
      } else summary = careSummary(context, evaluation, reason);
      const because = becauseOfEvaluation(
        rule,
        evaluation,
        conditions,
        `A note went to the ${params.queue} queue${subject} because ${reason}.`,
      );
      return {
        kind: 'careNote',
        id,
        subscriberId,
        at: event.at,
        capId,
        ruleId,
        causeEventId,
        queue: params.queue,
        summary,
        because,
      } as Action;
    }
    default:
      throw new Error(`not a notice rule: ${rule.name}`);
  }
}

/** One line a care agent reads out: what is restricted, why, where the subscriber is, what was offered. */
function careSummary(context: BuildContext, evaluation: Evaluation, reason: string): string {
  const dc = describeContext(context, evaluation);
  const { state, policy } = context;
  let restricted = 'nothing is restricted';
  for (let i = 0; i < state.restrictions.length; i++) {
    const r = state.restrictions[i]!;
    const part = `${describeScope(r.scope, policy)} (${r.kind}, ${r.capId})`;
    restricted = i === 0 ? `restricted: ${part}` : `${restricted}; ${part}`;
  }
  const where = `in ${state.location.country} (zone ${state.location.zone})`;
  const amount = outstandingOf(evaluation);
  const offered =
    amount > 0 && policy.document.paymentLink !== undefined
      ? `payment link available for ${formatMoney(amount, policy.currency, dc.locale)}`
      : 'no payment due';
  let subject =
    evaluation.cap === null
      ? ''
      : `${evaluation.cap.label} at ${formatPercent(evaluation.facts.usageRatio as number)} (${formatAmount(evaluation.facts.spend as number, dc)} of ${formatAmount(evaluation.cap.limit, dc)}) because ${reason}`;
  for (const reference in state.disputes) {
    if (!Object.prototype.hasOwnProperty.call(state.disputes, reference)) continue;
    const d = state.disputes[reference]!;
    if (d.status !== 'open') continue;
    const part = `dispute ${reference} open for ${formatMoney(d.amount, policy.currency, dc.locale)} since ${formatDate(d.openedAt, dc.locale, state.profile.timeZone)}`;
    subject = subject === '' ? part : `${subject}; ${part}`;
  }
  if (subject === '') subject = `noted because ${reason}`;
  return kept(`${state.profile.subscriberId}: ${subject}; ${restricted}; ${where}; ${offered}.`);
}

function noticeId(
  context: BuildContext,
  restriction: Restriction,
  scope: Scope,
  window: string,
  template: string,
): string {
  return actionId({
    subscriberId: context.state.profile.subscriberId,
    capId: restriction.capId,
    ruleId: restriction.ruleId,
    window,
    kind: 'notify',
    scope,
    causeEventId: context.event.id,
    template,
  });
}

function restrictionNotice(
  context: Building,
  id: string,
  restriction: Restriction,
  scope: Scope,
  templateKey: string | undefined,
  builtIn: 'restricted' | 'lifted',
  values: ActionValues,
  because: Because,
  link: string | undefined,
): NotifyAction {
  const event = context.event;
  const subscriberId = context.state.profile.subscriberId;
  const template = templateKey ?? `spendcap:${builtIn}`;
  const message = render(context, templateKey, DEFAULT_NOTICES[builtIn], values);
  const copied = copyScope(scope);
  // One literal, field by field in the order notices have always had (this runs per action).
  return (
    link !== undefined
      ? {
          kind: 'notify',
          id,
          subscriberId,
          at: event.at,
          capId: restriction.capId,
          ruleId: restriction.ruleId,
          causeEventId: event.id,
          channels: ['sms'],
          template,
          message,
          paymentLink: link,
          scope: copied,
          because,
        }
      : {
          kind: 'notify',
          id,
          subscriberId,
          at: event.at,
          capId: restriction.capId,
          ruleId: restriction.ruleId,
          causeEventId: event.id,
          channels: ['sms'],
          template,
          message,
          scope: copied,
          because,
        }
  ) as NotifyAction;
}

/** Appends to `out` the restriction an imposed rule makes and the notice that tells the subscriber. */
function imposeActions(
  context: Building,
  evaluations: readonly Evaluation[],
  { restriction, rule, evaluation }: Imposed,
  out: Action[],
): void {
  const dc = describeContext(context, evaluation);
  const cap = evaluation.cap!;
  const policy = context.policy;
  const subscriberId = context.state.profile.subscriberId;
  const event = context.event;
  const scopeText = describeScope(restriction.scope, policy);
  const { conditions, reason } = explainRule(context, rule, evaluation, true);
  const lift = liftForScope(context.state, policy, restriction, (c) => factsOfCap(evaluations, c));
  const templateKey = policy.document.notices?.restricted;
  const id = noticeId(
    context,
    restriction,
    restriction.scope,
    evaluation.window,
    templateKey ?? 'spendcap:restricted',
  );
  const link = lift.payment !== undefined ? fillLink(policy, subscriberId, lift.payment, id) : undefined;
  const liftClause = describeLift(
    lift,
    { currency: policy.currency, timeZone: context.state.profile.timeZone, locale: dc.locale },
    link,
  );
  const because = becauseOfEvaluation(
    rule,
    evaluation,
    conditions,
    `${describeRestriction(restriction, policy)} because ${reason}; ${liftClause}.`,
  );
  // One literal, field by field in the order these actions have always had (this runs per action).
  const scope = copyScope(restriction.scope);
  const action =
    restriction.kind === 'throttle'
      ? {
          kind: restriction.kind,
          id: restriction.actionId,
          subscriberId,
          at: event.at,
          capId: cap.id,
          ruleId: rule.name,
          causeEventId: event.id,
          scope,
          kbps: restriction.kbps!,
          because,
        }
      : {
          kind: restriction.kind,
          id: restriction.actionId,
          subscriberId,
          at: event.at,
          capId: cap.id,
          ruleId: rule.name,
          causeEventId: event.id,
          scope,
          because,
        };
  const values = new ActionValues(context, evaluation);
  values.scope = scopeText;
  values.reason = reason;
  values.howToLift = `${capitalize(liftClause)}.`;
  values.paymentLink = link;
  values.amount = lift.payment;
  out.push(
    action as Action,
    restrictionNotice(
      context,
      id,
      restriction,
      restriction.scope,
      templateKey,
      'restricted',
      values,
      because,
      link,
    ),
  );
}

/** Appends to `out` the unblock of a lifted restriction and the notice that tells the subscriber. */
function liftActions(context: Building, lifted: Lifted, out: Action[]): void {
  const { restriction, scope, cause, rule, evaluation } = lifted;
  const subscriberId = context.state.profile.subscriberId;
  const event = context.event;
  const scopeText = describeScope(scope, context.policy);
  const why = causeText(cause, context);
  const explained =
    rule !== undefined && evaluation !== undefined
      ? explainRule(context, rule, evaluation, false)
      : undefined;
  const conditions = explained?.conditions;
  const detail = explained !== undefined ? `: ${explained.reason}` : '';
  const text = `${capitalize(scopeText)} is no longer ${restriction.kind === 'block' ? 'blocked' : 'slowed'} because ${why}${detail}.`;
  const because: Because =
    rule !== undefined && evaluation !== undefined && conditions !== undefined
      ? becauseOfEvaluation(rule, evaluation, conditions, text)
      : { ruleName: restriction.ruleId, facts: {}, conditions: [], text: kept(text) };
  const window = evaluation?.window ?? '';
  const id = actionId({
    subscriberId,
    capId: restriction.capId,
    ruleId: restriction.ruleId,
    window,
    kind: 'unblock',
    scope,
    causeEventId: event.id,
  });
  const action: Action = {
    kind: 'unblock',
    id,
    subscriberId,
    at: event.at,
    capId: restriction.capId,
    ruleId: restriction.ruleId,
    causeEventId: event.id,
    scope: copyScope(scope),
    cause,
    lifts: restriction.kind,
    because,
  };
  const templateKey = context.policy.document.notices?.lifted;
  const values = new ActionValues(context, evaluation);
  values.scope = scopeText;
  values.reason = why;
  out.push(
    action,
    restrictionNotice(
      context,
      noticeId(context, restriction, scope, window, templateKey ?? 'spendcap:lifted'),
      restriction,
      scope,
      templateKey,
      'lifted',
      values,
      because,
      undefined,
    ),
  );
}

/** The facts a cap was evaluated on in this decision. */
function factsOfCap(evaluations: readonly Evaluation[], cap: { id: string }): Evaluation['facts'] {
  return evaluations.find((e) => e.cap?.id === cap.id)!.facts;
}

/** Actions hand out their own scope arrays: nothing a consumer does to one can reach the state or the policy. */
function copyScope(scope: Scope): Scope {
  const copy = new Array<{ service: string; zone: string }>(scope.length);
  for (let i = 0; i < scope.length; i++) copy[i] = { service: scope[i]!.service, zone: scope[i]!.zone };
  return copy;
}

/** A copy of a (frozen) list of the policy's, element by element (slicing a frozen array costs more). */
function copyList<T>(list: readonly T[]): T[] {
  const copy = new Array<T>(list.length);
  for (let i = 0; i < list.length; i++) copy[i] = list[i]!;
  return copy;
}

/** The text with its first letter in upper case. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
