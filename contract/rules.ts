// The rules on names, ids and inputs that every door into the queues checks: the client's
// validation, the HTTP API's OpenAPI schemas and the bundler. Each rule is written here once, so
// that a name one door accepts is never refused by another.

/** Longest function name (its file name without extension). */
export const MAX_FUNCTION_NAME_LENGTH = 64;
/** A function name: a letter, then letters, digits, '-' and '_'. */
export const FUNCTION_NAME_PATTERN = `^[A-Za-z][A-Za-z0-9_-]{0,${MAX_FUNCTION_NAME_LENGTH - 1}}$`;
export const FUNCTION_NAME = new RegExp(FUNCTION_NAME_PATTERN);
/** How a message tells the rule to a user. */
export const FUNCTION_NAME_RULE = `1 to ${MAX_FUNCTION_NAME_LENGTH} letters, digits, '-' and '_', starting with a letter`;
/** What a function file's name may end in: TypeScript, JavaScript, their module forms and JSX. */
export const FUNCTION_EXTENSIONS: readonly string[] = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx'];

/** Longest id a caller may pick; GET /jobs/{id} reads ids this long (fastify's maxParamLength is above it). */
export const MAX_CUSTOM_JOB_ID_LENGTH = 128;
/** Longest id of any job, BullMQ's own integer ids and our generated ones included. */
export const MAX_JOB_ID_LENGTH = 200;
/** A job id a caller picks (the reserved names and all-digit ids are refused besides). */
export const CUSTOM_JOB_ID_PATTERN = `^[A-Za-z0-9_.-]{1,${MAX_CUSTOM_JOB_ID_LENGTH}}$`;
/** Any id a job may have, BullMQ's own integer ids included. */
export const ANY_JOB_ID_PATTERN = `^[A-Za-z0-9_.:-]{1,${MAX_JOB_ID_LENGTH}}$`;

/**
 * The names of a BullMQ queue's own keys (bullmq/dist/cjs/classes/queue-keys.js getKeys, the keys
 * its Lua scripts build from the queue prefix, the metrics and legacy priority keys), plus the
 * suffixes BullMQ appends to a job's key. Compared case-sensitively, as Redis compares keys.
 */
export const RESERVED_JOB_IDS: ReadonlySet<string> = new Set([
  'active',
  'wait',
  'waiting-children',
  'paused',
  'id',
  'delayed',
  'prioritized',
  'stalled-check',
  'completed',
  'failed',
  'stalled',
  'repeat',
  'limiter',
  'meta',
  'events',
  'pc',
  'marker',
  'de',
  'dn',
  'priority',
  'metrics',
  'lock',
  'logs',
  'data',
  'dependencies',
  'processed',
  'unsuccessful',
]);

/** Longest run id (of client.map). */
export const MAX_RUN_ID_LENGTH = 64;
export const RUN_ID_PATTERN = `^[A-Za-z0-9_-]{1,${MAX_RUN_ID_LENGTH}}$`;

/** Default of producer.maxInputDepth: deeper inputs are refused. */
export const DEFAULT_MAX_INPUT_DEPTH = 64;
/** BullMQ refuses a higher priority ("between 0 and 2097151": it packs the priority and a counter into one score). */
export const MAX_PRIORITY = 2_097_151;

/** Longest schedule id. */
export const MAX_SCHEDULE_ID_LENGTH = 64;
/** A schedule id: one namespace across functions; no ':' (BullMQ reads ids with many colons as legacy repeat keys). */
export const SCHEDULE_ID_PATTERN = `^[A-Za-z0-9][A-Za-z0-9_.-]{0,${MAX_SCHEDULE_ID_LENGTH - 1}}$`;
export const SCHEDULE_ID_RULE = `1 to ${MAX_SCHEDULE_ID_LENGTH} letters, digits, '.', '_' and '-', starting with a letter or digit`;
/** Shortest and longest interval of an `every` schedule, in ms. */
export const MIN_SCHEDULE_EVERY_MS = 100;
export const MAX_SCHEDULE_EVERY_MS = 366 * 24 * 3600_000;
