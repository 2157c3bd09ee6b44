export * from '../../src/testing/harness';
