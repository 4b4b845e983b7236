// The one configuration schema. Every key has a doc, a format, a default and a PHOTONS_* env var;
// `photons config` prints them all.
import { availableParallelism } from 'node:os';
import { JOB_LOG_LEVELS, type JobLogLevel } from '../photon-worker/job-log';
import { MODES } from '../photon-worker/types';

export const schema = {
  redis: {
    url: {
      doc: "Redis URL of the job queues (redis:// or rediss://, with user and password if any). With redis.cluster: one or more comma-separated URLs of the cluster's nodes.",
      format: 'redis-url',
      default: 'redis://127.0.0.1:6379',
      env: 'PHOTONS_REDIS_URL',
      sensitive: true,
    },
    cluster: {
      doc: "The Redis is a Redis Cluster: each function's queue carries its own hash tag ({fn}), so the queues spread over the shards.",
      format: Boolean,
      default: false,
      env: 'PHOTONS_REDIS_CLUSTER',
    },
    autostart: {
      doc: '`photons start`: when no Redis answers at a loopback redis.url, start redis-server (if on the PATH) at that address, with its data in dataDir.',
      format: Boolean,
      default: true,
      env: 'PHOTONS_REDIS_AUTOSTART',
    },
    prefix: {
      doc: "Prefix of every Redis key. BullMQ's own default, so that a plain `new Queue(fn).add(...)` reaches the dispatchers.",
      format: 'key-prefix',
      default: 'bull',
      env: 'PHOTONS_REDIS_PREFIX',
    },
  },
  functionsDir: {
    doc: 'Folder of the function files (one .ts or .js file per function; the file name is the function name).',
    format: String,
    default: './functions',
    env: 'PHOTONS_FUNCTIONS_DIR',
  },
  mode: {
    doc: 'photon: many isolated jobs per runtime; shared: many jobs share one module instance; lambda: one job per runtime at a time.',
    format: [...MODES],
    default: 'photon',
    env: 'PHOTONS_MODE',
  },
  runtime: {
    photonsPerRuntime: {
      doc: 'Jobs one runtime runs at once, unless the function config says otherwise. 0 (the default): they follow memory, starting at 64 and growing while runtimes are nearly full, their event loops have time and their heaps have room.',
      format: 'nat',
      default: 0,
      env: 'PHOTONS_PHOTONS_PER_RUNTIME',
    },
    maxRuntimes: {
      doc: 'Most runtimes per function (photon and shared modes spread CPU-bound functions up to this; lambda mode runs one job per runtime up to this).',
      format: 'positive-int',
      default: availableParallelism(),
      env: 'PHOTONS_MAX_RUNTIMES',
    },
    memoryMb: {
      doc: 'Heap limit of one runtime in MB, unless the function config says otherwise.',
      format: 'positive-int',
      default: 512,
      env: 'PHOTONS_RUNTIME_MEMORY_MB',
    },
    spareThreads: {
      doc: 'Booted, empty runtime threads each dispatcher keeps ready, so that a cold start only loads the function (about 1 ms) instead of starting a thread (tens of ms); with runtime.shareAmongFunctions (the default) one booted shared thread, where first runtimes go. 0 turns this off.',
      format: 'nat',
      default: 1,
      env: 'PHOTONS_SPARE_THREADS',
    },
    shareAmongFunctions: {
      doc: 'A function\'s first runtime is a place in a runtime shared with other functions (each keeps its own photons and packages); a function that blocks, exhausts the heap or crashes there moves to runtimes of its own. false: a runtime of its own for every function. See the README, "The long tail shares a runtime".',
      format: Boolean,
      default: true,
      env: 'PHOTONS_SHARE_AMONG_FUNCTIONS',
    },
    functionsPerSharedRuntime: {
      doc: 'Most functions in one shared runtime (runtime.shareAmongFunctions).',
      format: 'positive-int',
      default: 32,
      env: 'PHOTONS_FUNCTIONS_PER_SHARED_RUNTIME',
    },
    keepAliveMs: {
      doc: 'An idle runtime is kept this long for the next job, then retired.',
      format: 'nat',
      default: 600_000,
      env: 'PHOTONS_KEEP_ALIVE_MS',
    },
    idleMemoryMb: {
      doc: 'Memory the idle runtimes of all functions of a dispatcher may keep together (each about 5 MB plus its heap). The most recently used stay warm for keepAliveMs; beyond this, runtimes idle for 10 s are retired, longest idle first. 0: no runtime stays warm past those 10 s.',
      format: 'nat',
      default: 256,
      env: 'PHOTONS_IDLE_MEMORY_MB',
    },
    watchdogMs: {
      doc: 'A runtime whose event loop stays blocked this long is replaced.',
      format: 'positive-int',
      default: 10_000,
      env: 'PHOTONS_WATCHDOG_MS',
    },
    startTimeoutMs: {
      doc: 'A runtime that has not loaded its function this long after it started is replaced (its top level loops or blocks). Longer than watchdogMs: many runtimes starting at once on few cores are slow, not stuck.',
      format: 'positive-int',
      default: 60_000,
      env: 'PHOTONS_START_TIMEOUT_MS',
    },
    eluHigh: {
      doc: 'Event-loop utilisation (0..1) above which a function is CPU-bound and gets another runtime.',
      format: 'fraction',
      default: 0.9,
      env: 'PHOTONS_ELU_HIGH',
    },
  },
  job: {
    timeoutMs: {
      doc: 'Timeout of a job, unless the function config says otherwise.',
      format: 'positive-int',
      default: 60_000,
      env: 'PHOTONS_JOB_TIMEOUT_MS',
    },
  },
  batch: {
    size: {
      doc: 'Most jobs sent to a runtime in one message.',
      format: 'positive-int',
      default: 64,
      env: 'PHOTONS_BATCH_SIZE',
    },
    lingerMs: {
      doc: 'How long a job waits for others to share its batch (0: only those fetched in the same turn of the event loop).',
      format: 'nat',
      default: 0,
      env: 'PHOTONS_BATCH_LINGER_MS',
    },
  },
  dispatcher: {
    concurrency: {
      doc: 'Most jobs of one function a dispatcher holds at once (running or waiting for a runtime); in lambda mode, the most runtimes of a function. 0 (the default): as many as its runtimes can admit now, within dispatcher.memoryBudgetMb (lambda mode: 256).',
      format: 'nat',
      default: 0,
      env: 'PHOTONS_CONCURRENCY',
    },
    memoryBudgetMb: {
      doc: "Heap all runtimes of a dispatcher may hold together, in MB, shared equally among the functions with jobs; when it is full, jobs wait in Redis. 0 (the default): half the memory of the process's cgroup, or of the machine.",
      format: 'nat',
      default: 0,
      env: 'PHOTONS_MEMORY_BUDGET_MB',
    },
    checkIntervalMs: {
      doc: 'How often a dispatcher looks, in one pipelined request, for jobs in the queues of functions without a running queue worker (a function idle past runtime.keepAliveMs holds no Redis connection); a job of an idle function starts within this time plus its cold start.',
      format: 'positive-int',
      default: 200,
      env: 'PHOTONS_CHECK_INTERVAL_MS',
    },
    lockDurationMs: {
      doc: 'BullMQ lock of an active job; a dispatcher that dies loses its jobs to others after about this long.',
      format: 'positive-int',
      default: 10_000,
      env: 'PHOTONS_LOCK_DURATION_MS',
    },
    stalledIntervalMs: {
      doc: "How often dispatchers look for jobs whose lock expired (a dead dispatcher's) and take them back.",
      format: 'positive-int',
      default: 5_000,
      env: 'PHOTONS_STALLED_INTERVAL_MS',
    },
    maxStalledCount: {
      doc: 'How often a job may lose its dispatcher (killed, cut off) and be taken back before it fails.',
      format: 'positive-int',
      default: 3,
      env: 'PHOTONS_MAX_STALLED_COUNT',
    },
    shutdownGraceMs: {
      doc: 'On SIGTERM/SIGINT, how long running jobs may finish before the rest are handed back to the queue.',
      format: 'nat',
      default: 30_000,
      env: 'PHOTONS_SHUTDOWN_GRACE_MS',
    },
    heartbeatMs: {
      doc: 'How often a dispatcher publishes its stats to Redis (they expire after three periods).',
      format: 'positive-int',
      default: 2_000,
      env: 'PHOTONS_HEARTBEAT_MS',
    },
    metricsPort: {
      doc: "Port of the dispatcher's own Prometheus GET /metrics (its runtimes only; on every interface); 0 turns it off. The API's /metrics covers the whole fleet.",
      format: 'port',
      default: 0,
      env: 'PHOTONS_DISPATCHER_METRICS_PORT',
    },
  },
  producer: {
    resultTtlSec: {
      doc: 'How long results of jobs and map runs stay in Redis (seconds); a run can be resumed by id within this time.',
      format: 'positive-int',
      default: 86_400,
      env: 'PHOTONS_RESULT_TTL_SEC',
    },
    maxInFlight: {
      doc: 'map: most items enqueued whose results the caller has not consumed yet (backpressure on the inputs).',
      format: 'positive-int',
      default: 10_000,
      env: 'PHOTONS_MAP_MAX_IN_FLIGHT',
    },
    maxInputDepth: {
      doc: 'Deepest nesting of arrays and objects an input may have; deeper inputs are refused (PHOTONS_ERR_INPUT_NOT_JSON) before they reach Redis.',
      format: 'positive-int',
      default: 64,
      env: 'PHOTONS_MAX_INPUT_DEPTH',
    },
    maxDelayMs: {
      doc: 'Longest delayMs (and backoffMs) a job may ask for, in ms; default one year.',
      format: 'positive-int',
      default: 31_536_000_000,
      env: 'PHOTONS_MAX_DELAY_MS',
    },
    maxAttempts: {
      doc: 'Most attempts a job may ask for.',
      format: 'positive-int',
      default: 1_000,
      env: 'PHOTONS_MAX_ATTEMPTS',
    },
  },
  api: {
    host: {
      doc: 'Address the HTTP API listens on. Anything but loopback needs api.token (or api.allowUnauthenticated).',
      format: String,
      default: '127.0.0.1',
      env: 'PHOTONS_API_HOST',
    },
    port: {
      doc: 'Port of the HTTP API (0: any free port).',
      format: 'port',
      default: 8321,
      env: 'PHOTONS_API_PORT',
    },
    token: {
      doc: 'Bearer token every API request must carry (Authorization: Bearer <token>); empty: no auth.',
      format: String,
      default: '',
      env: 'PHOTONS_API_TOKEN',
      sensitive: true,
    },
    allowUnauthenticated: {
      doc: 'Let the API listen on a non-loopback address without a token (anyone who reaches it can run jobs).',
      format: Boolean,
      default: false,
      env: 'PHOTONS_API_ALLOW_UNAUTHENTICATED',
    },
    bodyLimitBytes: {
      doc: 'Largest request body the API accepts, in bytes.',
      format: 'positive-int',
      default: 1_048_576,
      env: 'PHOTONS_API_BODY_LIMIT_BYTES',
    },
    maxWaitMs: {
      doc: 'Longest a POST /invoke request waits for its result before answering 202 with the job id.',
      format: 'positive-int',
      default: 30_000,
      env: 'PHOTONS_API_MAX_WAIT_MS',
    },
    dashboardPublic: {
      doc: 'With api.token set: serve /dashboard, its read-only queue board (job inputs and results) and /metrics without the token. The admin board (retry, clean, remove...) always needs it. Off by default: the token for everything.',
      format: Boolean,
      default: false,
      env: 'PHOTONS_API_DASHBOARD_PUBLIC',
    },
    maxInputsPerRequest: {
      doc: 'Most inputs one POST /jobs/bulk or POST /runs may carry; more answer 400 (start a map run from the client for more).',
      format: 'positive-int',
      default: 10_000,
      env: 'PHOTONS_API_MAX_INPUTS_PER_REQUEST',
    },
    rateLimitPerAddress: {
      doc: 'Most requests one client address may make per api.rateLimitWindowMs; more answer 429 with Retry-After. 0 turns it off.',
      format: 'nat',
      default: 50_000,
      env: 'PHOTONS_API_RATE_LIMIT_PER_ADDRESS',
    },
    rateLimitGlobal: {
      doc: 'Most requests from all addresses together per api.rateLimitWindowMs; more answer 429 with Retry-After. 0 turns it off.',
      format: 'nat',
      default: 200_000,
      env: 'PHOTONS_API_RATE_LIMIT_GLOBAL',
    },
    rateLimitWindowMs: {
      doc: 'The window of api.rateLimitPerAddress and api.rateLimitGlobal, in ms.',
      format: 'positive-int',
      default: 10_000,
      env: 'PHOTONS_API_RATE_LIMIT_WINDOW_MS',
    },
    requestTimeoutMs: {
      doc: 'Longest time a request may take to arrive whole (headers and body); a slower one answers 408 and its connection is closed.',
      format: 'positive-int',
      default: 60_000,
      env: 'PHOTONS_API_REQUEST_TIMEOUT_MS',
    },
    allowedHosts: {
      doc: 'Without api.token: the Host header values the API answers (comma list; a name without a port matches any port). Empty: localhost, 127.0.0.1 and [::1], with or without a port. Anything else is refused (a page of another site reaching a loopback API through DNS rebinding).',
      format: String,
      default: '',
      env: 'PHOTONS_API_ALLOWED_HOSTS',
    },
    maxRuns: {
      doc: 'Most map runs (POST /runs) one API process runs at once; beyond it POST /runs answers 429.',
      format: 'positive-int',
      default: 64,
      env: 'PHOTONS_API_MAX_RUNS',
    },
    sessionTtlSec: {
      doc: 'How long a dashboard sign-in lasts (seconds); sessions live in the API process and end at sign-out or restart.',
      format: 'positive-int',
      default: 43_200,
      env: 'PHOTONS_API_SESSION_TTL_SEC',
    },
  },
  log: {
    level: {
      doc: 'Level of the JSON log lines (pino) written to stdout.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'PHOTONS_LOG_LEVEL',
    },
    format: {
      doc: 'How log lines are written: pretty (one readable line each), json (one JSON object each), or auto: pretty on a terminal, json otherwise.',
      format: ['auto', 'json', 'pretty'],
      default: 'auto',
      env: 'PHOTONS_LOG_FORMAT',
    },
    jobLevel: {
      doc: "Lowest level of a job's ctx.log and console lines that also go to its BullMQ job log (queue.getJobLogs, bull-board's Logs tab), unless the function's config.jobLogLevel says otherwise; off: none.",
      format: [...JOB_LOG_LEVELS],
      default: 'info' as JobLogLevel,
      env: 'PHOTONS_JOB_LOG_LEVEL',
    },
    jobKeep: {
      doc: "Lines a job's BullMQ job log keeps (the latest), unless the job's own keepLogs option says otherwise; 0: no bound.",
      format: 'nat',
      default: 1_000,
      env: 'PHOTONS_JOB_LOG_KEEP',
    },
  },
  dataDir: {
    doc: 'Folder of what Photons keeps on this machine: the bundles of function files, so that a restart does not bundle unchanged files again (in bundles/), and the append-only file of the Redis `photons start` starts (in redis-<port>/). Relative to the working directory.',
    format: String,
    default: './.photons',
    env: 'PHOTONS_DATA_DIR',
  },
  deploy: {
    key: {
      doc: 'Secret shared by `photons deploy` and the dispatchers (never stored in Redis): deploys are signed with it, and dispatchers refuse bundles not signed with it. Empty: any bundle whose hash checks out runs, so write access to Redis is the right to run code.',
      format: String,
      default: '',
      env: 'PHOTONS_DEPLOY_KEY',
      sensitive: true,
    },
  },
};
