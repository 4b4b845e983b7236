// Redis connections and key names moved to contract/ (both producers and dispatchers use them);
// this module keeps the old import path working for the tests and benchmarks that use it.
export * from '../contract/redis';
export { photonsKey, queueName } from '../contract/keys';
