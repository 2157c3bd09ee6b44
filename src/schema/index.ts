export * from './common.js';
export * from './countries.js';
export * from './facts.js';
export * from './profile.js';
export * from './events.js';
export * from './policy.js';
export * from './actions.js';
export * from './state.js';
