export type { ReplayStore, RevocationStore, Revocation, Cache, StatePorts } from './ports.ts';
export { memoryState, memoryReplayStore, memoryRevocationStore, memoryCache, ReplayQuotaExceededError, StateFullError } from './memory.ts';
export type { MemoryStateOptions } from './memory.ts';
