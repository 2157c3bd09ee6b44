import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/index';
import {
  describeCondition,
  describeScope,
  explainConditions,
  formatPercent,
} from '../../src/explain/describe';
import { shippedPolicyJson } from '../support/fixtures';

const policy = loadPolicy(shippedPolicyJson());
const cap = policy.capById.get('roaming-data')!;
const context = { policy, cap, locale: 'en' };

describe('scopes in words', () => {
  it('names roaming, home and everywhere', () => {
    expect(describeScope(cap.scope, policy)).toBe('data while roaming (eu, world)');
    expect(describeScope([{ service: 'voice', zone: 'home' }], policy)).toBe('voice at home');
    expect(
      describeScope(
        policy.capById.get('bill')!.scope.filter((p) => p.service === 'sms'),
        policy,
      ),
    ).toBe('sms everywhere');
    expect(describeScope([{ service: 'data', zone: 'eu' }], policy)).toBe('data in eu');
  });
});

describe('conditions in words', () => {
  const over = {
    fact: 'usageRatio',
    operator: 'greaterThanInclusive',
    value: 1,
    compareTo: 1,
    factValue: 1.07,
    result: true,
  };
  const notOpted = {
    fact: 'optedIn',
    operator: 'equal',
    value: false,
    compareTo: false,
    factValue: false,
    result: true,
  };

  it('says percentages, thresholds and booleans the way a person would', () => {
    expect(describeCondition(over, context)).toBe(
      'usage is at 107% of the roaming data limit (at least 100%)',
    );
    expect(describeCondition({ ...over, factValue: 0.4, result: false }, context)).toBe(
      'usage is at 40% of the roaming data limit (needs at least 100%)',
    );
    expect(describeCondition(notOpted, context)).toBe('the customer has not opted in to continue');
  });

  it('joins the conditions that explain the outcome', () => {
    expect(explainConditions([over, notOpted], true, context)).toBe(
      'usage is at 107% of the roaming data limit (at least 100%) and the customer has not opted in to continue',
    );
    expect(explainConditions([over, { ...notOpted, factValue: true, result: false }], false, context)).toBe(
      'the customer opted in to continue',
    );
  });

  it('never rounds a percentage up to the limit', () => {
    expect(formatPercent(0.999)).toBe('99%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(0.29)).toBe('29%');
  });
});
