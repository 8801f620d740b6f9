/**
 * Agent-side SDK (DESIGN "Layers": client/): a fetch that authenticates with a WIT + WPT, audiences for gateway
 * mounts, and the transport rule. Web APIs only. Token exchange and HTTP-signature signing are planned. Barrel only.
 */
export { withWorkloadIdentity, type FetchLike, type WorkloadCredentials, type WorkloadIdentityOptions } from './fetch.ts';
export { mountAudience, targetAudience } from './audience.ts';
export { isLoopbackHost, transportProblem } from './transport.ts';
