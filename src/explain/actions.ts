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
import type { Evaluation, Fired, Imposed, Lifted, Reconciled } from '../reconcile/reconcile.js';
import { explainCondition } from '../rules/conditions.js';
import {
  describeScope,
  explainConditions,
  formatAmount,
  formatPercent,
  type DescribeContext,
} from './describe.js';
import { actionId } from './ids.js';
import { liftForScope, type LiftOptions } from './lift.js';
import {
  formatDate,
  formatMoney,
  kept,
  renderTemplate,
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

/**
 * What the actions of one evaluation share within a decision: the template values made so far
 * (formatting money is the dear part, and most templates use only some of them).
 */
interface Shared {
  readonly values: Map<string, string>;
}

/** The build context with the decision's shared parts, made once per `buildActions` call. */
interface Building extends BuildContext {
  readonly shared: Map<Evaluation, Shared>;
}

function sharedOf(context: Building, evaluation: Evaluation): Shared {
  let shared = context.shared.get(evaluation);
  if (shared === undefined) context.shared.set(evaluation, (shared = { values: new Map() }));
  return shared;
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
    link += encodeURIComponent(value) + parts[i + 1]!;
  }
  return kept(link);
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
  const cap = evaluation.cap !== null;
  const dc = (): DescribeContext => ({
    policy: context.policy,
    cap: evaluation.cap,
    locale: locale(context),
  });
  switch (name) {
    case 'subscriberId':
      return context.state.profile.subscriberId;
    case 'zone':
      return context.state.location.zone;
    case 'service':
      return typeof f.eventService === 'string' ? f.eventService : '';
    case 'capLabel':
      return evaluation.cap?.label ?? '';
    case 'percent':
      return cap ? formatPercent(f.usageRatio as number).replace('%', '') : '';
    case 'spend':
      return cap ? formatAmount(f.spend as number, dc()) : '';
    case 'limit':
      return cap ? formatAmount(f.limit as number, dc()) : '';
    case 'remaining':
      return cap ? formatAmount(Math.max(0, f.remaining as number), dc()) : '';
    case 'reference':
      return context.event.type === 'dispute' ? context.event.reference : '';
    default:
      return undefined;
  }
}

function templateValues(
  context: Building,
  evaluation: Evaluation,
  extra: Record<string, string | (() => string)>,
): (name: string) => string | undefined {
  const own = sharedOf(context, evaluation).values;
  // The action's own values first (a function is called only when a template asks for that value),
  // then the shared ones; own entries only (no `toString` from a prototype).
  return (name) => {
    if (Object.prototype.hasOwnProperty.call(extra, name)) {
      const value = extra[name]!;
      return typeof value === 'function' ? value() : value;
    }
    let value = own.get(name);
    if (value === undefined) {
      value = sharedValue(context, evaluation, name);
      if (value !== undefined) own.set(name, value);
    }
    return value;
  };
}

function render(
  context: BuildContext,
  templateKey: string | undefined,
  fallback: string,
  values: Record<string, string> | ((name: string) => string | undefined),
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
    shared: new Map(),
  };
  for (const evaluation of evaluations) {
    const capId = evaluation.cap?.id ?? null;
    const mine = (x: { evaluation: Evaluation | undefined }) =>
      (x.evaluation?.cap?.id ?? null) === capId && x.evaluation === evaluation;
    for (const f of fired) if (mine(f)) out.push(noticeAction(context, f));
    for (const l of lifted) if (l.restriction.capId === capId) out.push(...liftActions(context, l));
    for (const i of imposed) if (mine(i)) out.push(...imposeActions(context, evaluations, i));
  }
  // A restriction of a cap the policy no longer has is lifted too, and said so.
  if (lifted.length > 0) {
    const evaluated = new Set(evaluations.map((e) => e.cap?.id));
    for (const l of lifted) if (!evaluated.has(l.restriction.capId)) out.push(...liftActions(context, l));
  }
  return out;
}

function noticeAction(context: Building, { rule, evaluation }: Fired): Action {
  const dc = describeContext(context, evaluation);
  const conditions = explainCondition(rule.conditions, evaluation.facts);
  const reason = explainConditions(conditions, true, dc);
  const because = (text: string) => becauseOfEvaluation(rule, evaluation, conditions, text);
  const subscriberId = context.state.profile.subscriberId;
  const capId = evaluation.cap?.id ?? null;
  const window = evaluation.window;
  const causeEventId = context.event.id;
  const ruleId = rule.name;
  const subject = evaluation.cap === null ? '' : ` about ${evaluation.cap.label}`;
  // Built field by field, in the order the actions have always had (no spreads: this runs per action).
  const head = (kind: Action['kind'], id: string): Record<string, unknown> => ({
    kind,
    id,
    subscriberId,
    at: context.event.at,
    capId,
    ruleId,
    causeEventId,
  });
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
      const extra: Record<string, string | (() => string)> = { reason };
      if (link !== undefined) extra['paymentLink'] = link;
      if (amount > 0) extra['amount'] = () => formatMoney(amount, context.policy.currency, locale(context));
      const action = head('notify', id);
      action['channels'] = params.channels === undefined ? ['sms'] : params.channels.slice();
      action['template'] = template;
      action['message'] = render(context, template, '', templateValues(context, evaluation, extra));
      if (link !== undefined) action['paymentLink'] = link;
      if (params.threshold !== undefined) action['threshold'] = params.threshold;
      action['because'] = because(`Notice '${template}' sent${subject} because ${reason}.`);
      return action as Action;
    }
    case 'offerPayment': {
      const id = actionId({ subscriberId, capId, ruleId, window, causeEventId, kind: 'offerPayment' });
      const amount =
        rule.event.params.amount === 'outstanding' ? outstandingOf(evaluation) : rule.event.params.amount;
      const link = fillLink(context.policy, subscriberId, amount, id);
      const money = formatMoney(amount, context.policy.currency, EXPLAIN_LOCALE);
      const action = head('offerPayment', id);
      action['amount'] = amount;
      action['currency'] = context.policy.currency;
      if (link !== undefined) action['link'] = link;
      action['because'] = because(`A payment of ${money} was offered${subject} because ${reason}.`);
      return action as Action;
    }
    case 'careNote': {
      const params = rule.event.params;
      const template = params.template;
      const id = actionId({ subscriberId, capId, ruleId, window, causeEventId, kind: 'careNote', template });
      const summary =
        template !== undefined
          ? render(context, template, '', templateValues(context, evaluation, { reason }))
          : careSummary(context, evaluation, reason);
      const action = head('careNote', id);
      action['queue'] = params.queue;
      action['summary'] = summary;
      action['because'] = because(`A note went to the ${params.queue} queue${subject} because ${reason}.`);
      return action as Action;
    }
    default:
      throw new Error(`not a notice rule: ${rule.name}`);
  }
}

/** One line a care agent reads out: what is restricted, why, where the subscriber is, what was offered. */
function careSummary(context: BuildContext, evaluation: Evaluation, reason: string): string {
  const dc = describeContext(context, evaluation);
  const { state, policy } = context;
  const restricted =
    state.restrictions.length === 0
      ? 'nothing is restricted'
      : `restricted: ${state.restrictions.map((r) => `${describeScope(r.scope, policy)} (${r.kind}, ${r.capId})`).join('; ')}`;
  const where = `in ${state.location.country} (zone ${state.location.zone})`;
  const amount = outstandingOf(evaluation);
  const offered =
    amount > 0 && policy.document.paymentLink !== undefined
      ? `payment link available for ${formatMoney(amount, policy.currency, dc.locale)}`
      : 'no payment due';
  const capPart =
    evaluation.cap === null
      ? undefined
      : `${evaluation.cap.label} at ${formatPercent(evaluation.facts.usageRatio as number)} (${formatAmount(evaluation.facts.spend as number, dc)} of ${formatAmount(evaluation.cap.limit, dc)}) because ${reason}`;
  const disputes = Object.entries(state.disputes)
    .filter(([, d]) => d.status === 'open')
    .map(
      ([reference, d]) =>
        `dispute ${reference} open for ${formatMoney(d.amount, policy.currency, dc.locale)} since ${formatDate(d.openedAt, dc.locale, state.profile.timeZone)}`,
    );
  const subject =
    [capPart, ...disputes].filter((x) => x !== undefined).join('; ') || `noted because ${reason}`;
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
  evaluation: Evaluation | undefined,
  restriction: Restriction,
  scope: Scope,
  templateKey: string | undefined,
  builtIn: 'restricted' | 'lifted',
  values: Record<string, string>,
  because: Because,
  link: string | undefined,
): NotifyAction {
  const fullValues = evaluation === undefined ? values : templateValues(context, evaluation, values);
  // Field by field, in the order notices have always had (no spreads: this runs per action).
  const notice: Record<string, unknown> = {
    kind: 'notify',
    id,
    subscriberId: context.state.profile.subscriberId,
    at: context.event.at,
    capId: restriction.capId,
    ruleId: restriction.ruleId,
    causeEventId: context.event.id,
    channels: ['sms'],
    template: templateKey ?? `spendcap:${builtIn}`,
    message: render(context, templateKey, DEFAULT_NOTICES[builtIn], fullValues),
  };
  if (link !== undefined) notice['paymentLink'] = link;
  notice['scope'] = copyScope(scope);
  notice['because'] = because;
  return notice as NotifyAction;
}

function imposeActions(
  context: Building,
  evaluations: readonly Evaluation[],
  { restriction, rule, evaluation }: Imposed,
): Action[] {
  const dc = describeContext(context, evaluation);
  const cap = evaluation.cap!;
  const scopeText = describeScope(restriction.scope, context.policy);
  const conditions = explainCondition(rule.conditions, evaluation.facts);
  const reason = explainConditions(conditions, true, dc);
  const lift = liftForScope(context.state, context.policy, restriction, (c) => factsOfCap(evaluations, c));
  const templateKey = context.policy.document.notices?.restricted;
  const id = noticeId(
    context,
    restriction,
    restriction.scope,
    evaluation.window,
    templateKey ?? 'spendcap:restricted',
  );
  const link =
    lift.payment !== undefined
      ? fillLink(context.policy, context.state.profile.subscriberId, lift.payment, id)
      : undefined;
  const liftClause = describeLift(
    lift,
    { currency: context.policy.currency, timeZone: context.state.profile.timeZone, locale: dc.locale },
    link,
  );
  const howToLift = `${capitalize(liftClause)}.`;
  const because = becauseOfEvaluation(
    rule,
    evaluation,
    conditions,
    `${describeRestriction(restriction, context.policy)} because ${reason}; ${liftClause}.`,
  );
  // Field by field, in the order these actions have always had (no spreads: this runs per action).
  const built: Record<string, unknown> = {
    kind: restriction.kind,
    id: restriction.actionId,
    subscriberId: context.state.profile.subscriberId,
    at: context.event.at,
    capId: cap.id,
    ruleId: rule.name,
    causeEventId: context.event.id,
    scope: copyScope(restriction.scope),
  };
  if (restriction.kind === 'throttle') built['kbps'] = restriction.kbps!;
  built['because'] = because;
  const action = built as Action;
  const values: Record<string, string> = { scope: scopeText, reason, howToLift };
  if (link !== undefined) values['paymentLink'] = link;
  if (lift.payment !== undefined)
    values['amount'] = formatMoney(lift.payment, context.policy.currency, locale(context));
  const notice = restrictionNotice(
    context,
    id,
    evaluation,
    restriction,
    restriction.scope,
    templateKey,
    'restricted',
    values,
    because,
    link,
  );
  return [action, notice];
}

function liftActions(context: Building, lifted: Lifted): Action[] {
  const { restriction, scope, cause, rule, evaluation } = lifted;
  const dc = describeContext(context, evaluation);
  const scopeText = describeScope(scope, context.policy);
  const why = causeText(cause, context);
  const conditions =
    rule !== undefined && evaluation !== undefined
      ? explainCondition(rule.conditions, evaluation.facts)
      : undefined;
  const detail = conditions !== undefined ? `: ${explainConditions(conditions, false, dc)}` : '';
  const text = `${capitalize(scopeText)} is no longer ${restriction.kind === 'block' ? 'blocked' : 'slowed'} because ${why}${detail}.`;
  const because: Because =
    rule !== undefined && evaluation !== undefined && conditions !== undefined
      ? becauseOfEvaluation(rule, evaluation, conditions, text)
      : { ruleName: restriction.ruleId, facts: {}, conditions: [], text: kept(text) };
  const window = evaluation?.window ?? '';
  const id = actionId({
    subscriberId: context.state.profile.subscriberId,
    capId: restriction.capId,
    ruleId: restriction.ruleId,
    window,
    kind: 'unblock',
    scope,
    causeEventId: context.event.id,
  });
  const action: Action = {
    kind: 'unblock',
    id,
    subscriberId: context.state.profile.subscriberId,
    at: context.event.at,
    capId: restriction.capId,
    ruleId: restriction.ruleId,
    causeEventId: context.event.id,
    scope: copyScope(scope),
    cause,
    lifts: restriction.kind,
    because,
  };
  const templateKey = context.policy.document.notices?.lifted;
  const notice = restrictionNotice(
    context,
    noticeId(context, restriction, scope, window, templateKey ?? 'spendcap:lifted'),
    evaluation,
    restriction,
    scope,
    templateKey,
    'lifted',
    { scope: scopeText, reason: why },
    because,
    undefined,
  );
  return [action, notice];
}

/** The facts a cap was evaluated on in this decision. */
function factsOfCap(evaluations: readonly Evaluation[], cap: { id: string }): Evaluation['facts'] {
  return evaluations.find((e) => e.cap?.id === cap.id)!.facts;
}

/** Actions hand out their own scope arrays: nothing a consumer does to one can reach the state or the policy. */
function copyScope(scope: Scope): Scope {
  return scope.map((pair) => ({ ...pair }));
}

/** The text with its first letter in upper case. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
