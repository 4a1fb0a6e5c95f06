/**
 * `@faucet/testkit`: the conformance battery every faucet connector runs.
 *
 *   testSource({ name, create, seed, capabilities })   // one vitest suite, one test per rule
 *   testSink({ name, create, reset, capabilities })
 *   testStateStore({ name, create, capabilities })
 *
 * The same checks as plain functions (for other runners) and the doubles come from
 * `@faucet/testkit/assert`, re-exported here.
 */
export * from './assert.js';
export { describeWithService, type ServiceSpec, servicesRequired } from './services.js';
export { testSink, testSource, testStateStore } from './suites.js';
