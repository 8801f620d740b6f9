/**
 * Agent-side SDK (DESIGN "Layers": client/): a fetch that authenticates with a WIT + WPT or a WIMSE HTTP message
 * signature (and verifies signed responses), audiences for gateway mounts, and the transport rule. Web APIs only.
 * Token exchange is planned. Barrel only.
 */
export { withWorkloadIdentity, type FetchLike, type WorkloadCredentials, type WorkloadIdentityOptions } from './fetch.ts';
export { RESPONSE_SIGNATURE_ERRORS, ResponseSignatureError, type ResponderTrust, type ResponseSignatureErrorCode } from './http-signature.ts';
export { mountAudience, targetAudience } from './audience.ts';
export { isLoopbackHost, transportProblem } from './transport.ts';
