// Reading the fleet moved to contract/fleet.ts (the API and the CLI read it without a dispatcher);
// this module keeps the old import path working for the tests and benchmarks that use it.
export * from '../contract/fleet';
