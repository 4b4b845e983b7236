// The public entry point: the producer client and its types, the errors users match on, and the
// types a function author writes against (and the error a function throws for bad input).
export { PhotonsClient, type JobSettlement } from './producer/client';
export { MapRun } from './producer/map-run';
export { MapReduceRun, type MapReduceResultOptions } from './producer/map-reduce';
export type { ReduceInput } from './contract/run-results';
export type { RunTimeline, TimelineBar } from './producer/run-timeline';
export { timelineSvg } from './producer/timeline-svg';
export type { FunctionInfo } from './producer/registry';
export type { Outcome } from './contract/jobs';
export type { ScheduleInfo, ScheduleTiming } from './producer/schedules';
export type {
  CancelResult,
  ClientOptions,
  EnqueueOptions,
  InvokeOptions,
  ItemResult,
  JobState,
  JobStatus,
  MapInputs,
  MapOptions,
  ResumeOptions,
  RunProgress,
  RunState,
} from './producer/types';
export { ErrorCodes, JobFailedError, PhotonsError, type ErrorCode, type SerializedError } from './errors';
// loadConfig is the subpath 'photons/config': a client needs no config library loaded.
export type { PhotonsConfig } from './config';
export type { FunctionConfig, Mode, PhotonContext, PhotonHandler } from './photon-worker/types';
export { UnrecoverableError } from 'bullmq';
