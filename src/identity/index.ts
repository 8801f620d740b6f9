/** Workload identifiers: SPIFFE IDs and `wimse://` URIs (parse, canonical check, compare, origin). */
export { parseWorkloadId, sameWorkloadId, workloadOrigin, MAX_WORKLOAD_ID_OCTETS } from './workload-id.ts';
export type { WorkloadId, WorkloadIdError, WorkloadIdScheme } from './workload-id.ts';
export { checkTrustDomainName, isTrustDomainName, MAX_SPIFFE_TRUST_DOMAIN_OCTETS } from './trust-domain.ts';
export type { Principal, UserPrincipal } from './principal.ts';
