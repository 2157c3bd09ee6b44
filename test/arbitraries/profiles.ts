export * from '../../src/testing/profiles';
