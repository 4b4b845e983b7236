// Rendering metrics moved to monitoring/fleet-metrics.ts (the API renders them too); this module
// keeps the old import path working for the tests and benchmarks that use it.
export * from '../monitoring/fleet-metrics';
