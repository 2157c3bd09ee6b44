export { loadPolicy, checkPolicy, type PolicyReport } from './policy/check.js';
export type { Policy, LoadedCap, LoadedRule } from './policy/types.js';
export { policyJsonSchema } from './policy/json-schema.js';
export { analyzePolicy, type AnalyzeOptions } from './policy/analyze.js';
export {
  createEngine,
  type SpendcapEngine,
  type EngineOptions,
  type Decision,
  type BatchDecision,
  type BatchResult,
  type Explanation,
  type RestrictionExplanation,
} from './engine.js';
export { SpendcapError, PolicyError, InputError, type Issue, type IssueCode } from './errors.js';
export {
  EventSchema,
  UsageEventSchema,
  LocationEventSchema,
  PaymentEventSchema,
  AdjustmentEventSchema,
  DisputeEventSchema,
  OverrideEventSchema,
  TickEventSchema,
  type SpendEvent,
  type EventType,
  type UsageEvent,
  type LocationEvent,
  type PaymentEvent,
  type AdjustmentEvent,
  type DisputeEvent,
  type OverrideEvent,
  type TickEvent,
} from './schema/events.js';
export { SubscriberProfileSchema, type SubscriberProfile } from './schema/profile.js';
export {
  PolicySchema,
  POLICY_LIMITS,
  type PolicyDocument,
  type Cap,
  type Rule,
  type Condition,
} from './schema/policy.js';
export {
  ActionSchema,
  type Action,
  type ActionKind,
  type NotifyAction,
  type BlockAction,
  type ThrottleAction,
  type UnblockAction,
  type UnblockCause,
  type OfferPaymentAction,
  type CareNoteAction,
  type Because,
  type ConditionResult,
  type Scope,
  type ScopePair,
} from './schema/actions.js';
export {
  SubscriberStateSchema,
  STATE_VERSION,
  type SubscriberState,
  type Restriction,
} from './schema/state.js';
export { migrateState } from './schema/migrate.js';
export { FACTS, OPERATORS, type FactName, type OperatorName } from './schema/facts.js';
export { windowAt, type BillingWindow, type WindowKind } from './window/index.js';
export { formatMoney } from './explain/template.js';
export { measureTimeline, type TimelineEntry, type TimelineMeasures } from './explain/measure.js';
export {
  runScenario,
  ScenarioFileSchema,
  ScenarioSchema,
  ExpectedActionSchema,
  type ScenarioFile,
  type Scenario,
  type ScenarioResult,
  type ExpectedAction,
} from './scenario/scenario.js';
