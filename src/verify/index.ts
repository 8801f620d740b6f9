/**
 * Trust-boundary verifiers (DESIGN principle 1): each takes the credential plus injected ports (key source,
 * replay store, clock) and returns a Result with a stable error code. One operation per module; this barrel
 * only re-exports.
 */
export { verifyWit, type VerifiedWit, type WitContext, type WitKeySource, type WitPolicy } from './wit.ts';
export { verifyWpt, type VerifiedWpt, type WptContext, type WptPolicy } from './wpt.ts';
export { verifyJwtSvid, type JwtSvidContext, type JwtSvidPolicy, type VerifiedJwtSvid } from './jwt-svid.ts';
export {
  JWT_SVID_ERRORS,
  WIT_ERRORS,
  WIT_FAILURE_STATUS,
  WPT_ERRORS,
  wptChallenge,
  wptFailureStatus,
  type JwtSvidErrorCode,
  type WitErrorCode,
  type WptErrorCode,
} from './errors.ts';
