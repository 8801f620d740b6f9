/** Portcullis public API. Runtime entries live under `portcullis/runtime/*`. */
export { createGateway } from './gateway/app.ts';
export type { Gateway, GatewayOptions, ConnectionInfo, ServiceBinding } from './gateway/app.ts';
export { parseConfig, parseConfigText, assertConfig, formatProblems, ConfigError, gatewayConfigSchema } from './config/index.ts';
export type { GatewayConfig, GatewayConfigInput, RouteConfig, ConfigProblem, ConfigResult } from './config/index.ts';
export { memoryState } from './state/index.ts';
export type { StatePorts, ReplayStore, RevocationStore, Revocation, Cache } from './state/index.ts';
export { stdoutSink, noopSink, memorySink } from './audit/index.ts';
export type { AuditEvent, AuditSink } from './audit/index.ts';
export { parseWorkloadId, sameWorkloadId, workloadOrigin } from './identity/index.ts';
export type { WorkloadId, WorkloadIdError, Principal } from './identity/index.ts';
export { trustKeySource } from './trust/key-source.ts';
export type { TrustKeySource, TrustKeyPorts, KeyPurpose, TrustKey } from './trust/key-source.ts';
export { KeySourceUnavailableError } from './trust/remote-key-set.ts';
export { verifyWit, verifyWpt, verifyJwtSvid, wptChallenge } from './verify/index.ts';
export type { VerifiedWit, VerifiedWpt, VerifiedJwtSvid, WitErrorCode, WptErrorCode, JwtSvidErrorCode } from './verify/index.ts';
