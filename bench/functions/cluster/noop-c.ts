// Benchmark fixture for the cluster suite: noop under a name whose hash tag lands on its own shard.
export { default } from '../noop';
