/**
 * HTTP Message Signatures (RFC 9421) core: structured fields, component values, signature bases, signing and
 * verification with Web Crypto. Generic: no profile (WIMSE) rules and no gateway wiring live here.
 */
export { HTTP_SIG_ALGORITHMS, isHttpSigAlgorithm, type HttpSigAlgorithm } from './algorithms.ts';
export { componentFromInput, serializeComponentIdentifier, type ComponentIdentifier, type ComponentInput } from './component-identifier.ts';
export { componentValue } from './component-value.ts';
export { DERIVED_COMPONENTS, type DerivedComponentName } from './derived-component.ts';
export { HTTP_SIG_ERRORS, type HttpSigErrorCode } from './errors.ts';
export { canonicalFieldLine } from './field-component.ts';
export { fieldLines, isResponse, responseMessage, type FieldLines, type FieldRecord, type FieldSource, type HeadersLike, type HttpSigMessage } from './message.ts';
export { parseSignatures, type HttpSignature } from './parse-signatures.ts';
export { encodeQueryParamText } from './query-param.ts';
export { selectSignature, type SignatureSelector } from './select-signature.ts';
export { createSignatureBase, type SignatureBaseOptions } from './signature-base.ts';
export { readSignatureMetadata, serializeSignatureParams, signatureParamsFromInput, type SignatureMetadata, type SignatureParamsInput } from './signature-params.ts';
export { signMessage, type SignedMessage, type SignOptions } from './sign.ts';
export { DEFAULT_STRUCTURED_FIELDS, type StructuredFieldTypes } from './structured-field-types.ts';
export { verifyMessage, verifySignature, type VerifiedSignature, type VerifyOptions } from './verify.ts';
