/**
 * Trust-boundary verifiers (DESIGN principle 1): each takes the credential plus injected ports (key source,
 * replay store, clock) and returns a Result with a stable error code. One operation per module; this barrel
 * only re-exports.
 */
export { verifyWit, type VerifiedWit, type WitContext, type WitKeySource, type WitPolicy } from './wit.ts';
export { verifyWpt, type VerifiedWpt, type WptContext, type WptPolicy } from './wpt.ts';
export { verifyJwtSvid, type JwtSvidContext, type JwtSvidPolicy, type VerifiedJwtSvid } from './jwt-svid.ts';
export { DEFAULT_DPOP_ALGORITHMS, DPOP_ERRORS, normalizeHtu, verifyDpopProof, type DpopContext, type DpopErrorCode, type DpopPolicy, type VerifiedDpopProof } from './dpop.ts';
export { verifyAccessToken, type AccessTokenContext, type AccessTokenKeySource, type AccessTokenPolicy, type VerifiedAccessToken } from './access-token.ts';
export {
  ACCESS_TOKEN_ERRORS,
  JWT_SVID_ERRORS,
  WIT_ERRORS,
  WIT_FAILURE_STATUS,
  WPT_ERRORS,
  wptChallenge,
  wptFailureStatus,
  type AccessTokenErrorCode,
  type JwtSvidErrorCode,
  type WitErrorCode,
  type WptErrorCode,
} from './errors.ts';
