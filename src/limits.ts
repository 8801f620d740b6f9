/**
 * Every default limit of the gateway, in one place, each with the reason for its value.
 * Config may lower or raise them per gateway (`limits`) or per route; these apply when it does not.
 */

/** Total bytes of request header names and values. Node's own parser stops at 16 KiB by default;
 * 32 KiB leaves room for a WIT, a proof and a Txn-Token while refusing header floods (RFC 6585 §5: 431). */
export const MAX_HEADER_BYTES = 32 * 1024;

/** Number of request header fields. Real agents send a few dozen; hundreds are an attack on parsers. */
export const MAX_HEADER_COUNT = 100;

/** Request body bytes. MCP and A2A JSON-RPC messages are small; 1 MiB bounds memory per request on
 * Workers (128 MiB per isolate) while leaving room for tool arguments. Larger uploads: raise per route. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Milliseconds to wait for the upstream's response headers. A stream that has started is never cut
 * (SSE replies and MCP `subscriptions/listen` are long-lived); only the wait for the first byte is bounded. */
export const UPSTREAM_TIMEOUT_MS = 30_000;

/** Inbound `X-Request-ID` values are kept only when short and made of token characters; anything else is
 * replaced by a fresh id so a caller cannot inject log lines or oversized values into upstream logs. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Bytes of a config document read from a file or a Workers variable. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** Entries kept by an in-memory store before the oldest are evicted, so one process stays bounded. */
export const MEMORY_STORE_MAX_ENTRIES = 100_000;

/** Live replay markers one partition (a WIT subject) may hold in a memory replay store: half of it, so a caller
 * minting fresh proofs in bulk can never leave the other callers without room. A marker lives until exp + skew:
 * 120 s with the client's 60 s proofs, so one subject may sustain about 400 proofs per second per process (the
 * store as a whole about 800: a busier process needs the Durable Object store or a bigger memory store). */
export const MAX_REPLAY_MARKERS_PER_PARTITION = MEMORY_STORE_MAX_ENTRIES / 2;

/** Durable Object state (runtime/durable-state.ts). Keys are hashes or opaque ids (state/ports.ts); 512 characters is ample and keeps one row, and SQL, bounded. */
export const MAX_STATE_KEY_LENGTH = 512;

/** Stored JSON text per value. A row may hold 2 MB in a SQLite Durable Object; 512 Ki UTF-16 units stay under
 * that even at 3 UTF-8 bytes each. Cached claims, key sets and decisions are far smaller. */
export const MAX_STATE_VALUE_LENGTH = 512 * 1024;

/** Default shard count: 16 objects give room for well over ten thousand state calls per second. */
export const DEFAULT_STATE_SHARDS = 16;

/** Upper bound on shards, to catch a mistyped option rather than to model a real limit. */
export const MAX_STATE_SHARDS = 4096;

/** Expired rows are ignored on read at once; the alarm that deletes them runs at most this often. */
export const STATE_PURGE_INTERVAL_MS = 60_000;

/** Rows deleted per alarm run, so one run stays short; a full batch brings the next run forward. */
export const STATE_PURGE_BATCH = 10_000;

/** Bytes of a WIT (compact JWS). An ES256 WIT with an RSA-4096 `cnf.jwk` and a 2048-octet SPIFFE id stays
 * under 5 KiB; 8 KiB leaves room for extra claims yet refuses a token built to make us parse and hash. */
export const MAX_WIT_BYTES = 8 * 1024;

/** Bytes of a WPT. Its claims are a URL, hashes and an `oth` map; 4 KiB holds `oth` for dozens of tokens. */
export const MAX_WPT_BYTES = 4 * 1024;

/** Bytes of a JWT-SVID. Same shape and reasoning as a WIT, without `cnf`. */
export const MAX_JWT_SVID_BYTES = 8 * 1024;

/** Seconds of clock difference tolerated on exp / nbf / iat. WIT-SVID §3.4 allows "seconds to at most a couple of
 * minutes"; one minute covers NTP-synced fleets without extending a proof's life much. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;

/** Longest WIT lifetime accepted. workload-creds-02 §9.2.1: WITs "SHOULD be short-lived, typically on the order
 * of hours"; a day is the ceiling of "hours" and still bounds a stolen WIT + key. */
export const DEFAULT_WIT_MAX_LIFETIME_SECONDS = 24 * 60 * 60;

/** Longest WPT lifetime accepted. wpt-02 §2: "on the order of minutes or seconds", and "WPTs with an
 * expiration time unreasonably far in the future SHOULD be rejected"; five minutes also bounds the replay cache. */
export const DEFAULT_WPT_MAX_LIFETIME_SECONDS = 5 * 60;

/** Longest JWT-SVID lifetime accepted. A bearer token; SPIRE's default JWT-SVID TTL is five minutes, and an
 * hour leaves room for slower rotation while bounding a leaked token. */
export const DEFAULT_JWT_SVID_MAX_LIFETIME_SECONDS = 60 * 60;

/** Characters of a JOSE `kid`. Key ids are thumbprints or short names; a longer one is junk sent to make the
 * key lookup work harder. */
export const MAX_KID_LENGTH = 256;

/** Characters of a WPT `jti`. wpt-02 suggests 128 random bits (22 base64url characters); it is hashed before it
 * reaches the replay store, so this only refuses junk. */
export const MAX_JTI_LENGTH = 256;

/** Entries of a WPT `oth` claim. One per context token header in the request; a handful in practice. */
export const MAX_OTH_ENTRIES = 32;

/** Imported public keys kept per isolate (crypto/key-cache.ts). Confirmation keys change with every WIT
 * (workload-creds-02 key management: SHOULD be re-generated per WIT), so this covers about a thousand active callers plus
 * the trust anchors; each entry is a CryptoKey of well under a kilobyte. */
export const KEY_IMPORT_CACHE_MAX_ENTRIES = 1024;

/** Largest `clockSkewSeconds` a trust domain may configure. WIT-SVID §3.4 allows leeway of "seconds to at most a
 * couple of minutes"; five minutes is the ceiling, past which skew would stretch a five-minute proof to double life. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

/** Largest `maxWitLifetimeSeconds`. workload-creds-02 §9.2.1: "short-lived, typically on the order of hours"; a week
 * covers batch issuers with slow rotation, anything longer is a long-lived credential in disguise. */
export const MAX_WIT_LIFETIME_LIMIT_SECONDS = 7 * 24 * 60 * 60;

/** Largest `maxJwtSvidLifetimeSeconds`. A bearer token: a day is already generous (SPIRE defaults to five minutes). */
export const MAX_JWT_SVID_LIFETIME_LIMIT_SECONDS = 24 * 60 * 60;

/** Largest `maxWptLifetimeSeconds`. wpt-02 §2: "on the order of minutes or seconds"; an hour is the outer edge of
 * "minutes" and bounds how long a replay marker lives. */
export const MAX_WPT_LIFETIME_LIMIT_SECONDS = 60 * 60;

/** Keys per inline trust-domain JWK Set. Rotation needs two or three; a bundle of hundreds is a mistake (or an
 * attempt to make the key lookup work hard). */
export const MAX_TRUST_DOMAIN_KEYS = 64;

/** Entries of a trust domain's `issuers` allowlist, and of a route's `trustDomains` list: configuration, not data. */
export const MAX_CONFIG_LIST_ENTRIES = 64;

/** Verified WITs kept per isolate in front of the shared cache (gateway/authenticate.ts): about a thousand
 * active callers, at most MAX_WIT_BYTES of key plus a small VerifiedWit each, so under ~10 MiB. */
export const HOT_WIT_CACHE_ENTRIES = 1024;

/** Seconds between refreshes of a remote trust-domain key set (JWKS URL, SPIFFE bundle endpoint, key file).
 * SPIRE's bundle endpoint hints five minutes; a SPIFFE bundle's own `spiffe_refresh_hint` takes precedence. */
export const DEFAULT_KEY_REFRESH_SECONDS = 5 * 60;

/** Bounds on a refresh interval, configured or hinted: faster than 30 s hammers the source, slower than a day
 * leaves a rotated-out key trusted for too long. */
export const MIN_KEY_REFRESH_SECONDS = 30;
export const MAX_KEY_REFRESH_SECONDS = 24 * 60 * 60;

/** After a token names a `kid` the set lacks, the source is refetched at most this often (per isolate): a new key
 * is picked up at once after rotation, while junk `kid`s cannot make the gateway hammer the source. */
export const DEFAULT_UNKNOWN_KID_COOLDOWN_SECONDS = 30;

/** How long last-known keys keep verifying while the source cannot be reached. A day rides out an outage of the
 * issuer's endpoint; past it, the trust domain fails closed (503) rather than trust keys nobody vouches for. */
export const DEFAULT_KEY_MAX_STALE_SECONDS = 24 * 60 * 60;
export const MAX_KEY_MAX_STALE_SECONDS = 7 * 24 * 60 * 60;

/** Milliseconds to fetch a remote key set, headers and body. Key endpoints answer from memory or a CDN. */
export const KEY_FETCH_TIMEOUT_MS = 5_000;

/** Bytes of a fetched key set. A SPIFFE bundle with a few X.509 CA chains is tens of KiB; 256 KiB refuses
 * anything built to exhaust memory. */
export const MAX_KEY_SET_BYTES = 256 * 1024;

/** Bytes of one DER certificate (src/x509). An X509-SVID is 0.5–2 KiB and an RSA-4096 CA with long names stays under
 * 3 KiB; 8 KiB leaves room for a handful of DNS SANs and refuses anything built to make the parser work hard. */
export const MAX_X509_CERTIFICATE_BYTES = 8 * 1024;

/** Characters of one PEM certificate block: base64 of MAX_X509_CERTIFICATE_BYTES (10 924) plus line breaks and armour. */
export const MAX_X509_PEM_BLOCK_CHARS = 12 * 1024;

/** Ceiling for a verifier's `maxChainLength` (certificates presented: leaf, intermediates, optional root). SPIRE with
 * a nested or upstream-signed CA uses three or four; eight covers deep private PKIs and bounds signature checks. */
export const MAX_X509_CHAIN_LENGTH = 8;

/** Default `maxChainLength`: leaf, up to three intermediates (nested SPIRE under an upstream CA), or two plus the root. */
export const DEFAULT_X509_MAX_CHAIN_LENGTH = 5;

/** X.509 CA certificates per trust-domain bundle, like MAX_TRUST_DOMAIN_KEYS: rotation needs two or three. */
export const MAX_X509_BUNDLE_CERTIFICATES = 64;

/** Nesting depth of DER elements walked in a certificate: real certificates reach about 7 (Name → RDN → attribute). */
export const MAX_X509_DER_DEPTH = 16;

/** RSA keys in a certificate path: at least 2048 bits (NIST SP 800-131A); at most 8192, past which a verify only costs. */
export const MIN_X509_RSA_MODULUS_BITS = 2048;
export const MAX_X509_RSA_MODULUS_BITS = 8192;

/** Characters of an RFC 9440 `Client-Cert` field: `:` + base64 of MAX_X509_CERTIFICATE_BYTES + `:`, rounded up. */
export const MAX_CLIENT_CERT_FIELD_CHARS = 11 * 1024;

/** Characters of an RFC 9440 `Client-Cert-Chain` field: one field per certificate past the leaf, plus separators. */
export const MAX_CLIENT_CERT_CHAIN_FIELD_CHARS = (MAX_X509_CHAIN_LENGTH - 1) * (MAX_CLIENT_CERT_FIELD_CHARS + 2);

/** Bytes of the combined Signature-Input, and of the combined Signature, field value (RFC 9421 §4.1, §4.2). One
 * signature with a dozen components and an RSA-4096 value takes under 1.5 KiB; 8 KiB holds several signers. */
export const MAX_HTTP_SIG_FIELD_BYTES = 8 * 1024;

/** Signatures (labels) per message. A client plus a proxy or two (RFC 9421 §4.3); more is junk to make us verify. */
export const MAX_HTTP_SIG_LABELS = 8;

/** Covered components per signature. WIMSE requires about eight; RFC 9421's fullest example (§2.4) covers ten. */
export const MAX_HTTP_SIG_COMPONENTS = 32;

/** Signature parameters per signature: six registered (§2.3) plus a profile's few (WIMSE adds three). */
export const MAX_HTTP_SIG_PARAMETERS = 16;

/** Parameters per covered component: the registered ones (sf, key, bs, req, tr, name) never need more than four. */
export const MAX_HTTP_SIG_COMPONENT_PARAMETERS = 8;

/** Decoded bytes of one signature value. RSA-8192 signatures are 1024 bytes; ECDSA and Ed25519 are under 100. */
export const MAX_HTTP_SIG_VALUE_BYTES = 1024;

/** Bytes of a signature base (§2.5). Covered fields are bounded by MAX_HEADER_BYTES, but one field can be covered
 * several times (raw, sf, key, bs at 4/3 size); 64 KiB bounds the work while leaving room for that. */
export const MAX_HTTP_SIG_BASE_BYTES = 64 * 1024;

/** Longest `expires − created` of a WIMSE HTTP signature. -07 §3.2: "expiration MUST be short, e.g. on the order of
 * minutes"; the WG's own examples run just over five minutes (302 s), so ten, which still bounds the nonce markers. */
export const DEFAULT_HTTP_SIG_MAX_LIFETIME_SECONDS = 10 * 60;
export const MAX_HTTP_SIG_LIFETIME_LIMIT_SECONDS = 60 * 60;

/** Bytes of a request body the client SDK signs with the WIMSE HTTP-signature profile (client/fetch.ts, `proof:
 * 'http-sig'`). The Content-Digest needs the whole body before the request is sent, so it is buffered; the gateway's
 * own MAX_BODY_BYTES (1 MiB) refuses more anyway. Bigger uploads: send them unsigned by another path. */
export const MAX_SIGNED_REQUEST_BODY_BYTES = MAX_BODY_BYTES;

/** Bytes of a signed response body the client SDK buffers to check its Content-Digest before handing the response
 * over (-07 §3.1: the receiver MUST compute it). Tool results can be larger than requests; 8 MiB bounds memory per
 * call. A streamed response (SSE) is only verifiable once it ends, so a signed one past this bound is refused. */
export const MAX_SIGNED_RESPONSE_BODY_BYTES = 8 * 1024 * 1024;

/** After the gateway's own identity fails to load, it is tried again at most this often: often enough to pick up a
 * fixed file or secret within seconds, rarely enough that a broken source is not read on every request. */
export const OWN_IDENTITY_RETRY_MS = 5_000;

/** Verified X509-SVID chains kept per isolate (gateway/authenticate.ts), keyed by a hash of the whole chain: a
 * repeated client certificate costs a digest instead of a path validation. A VerifiedX509Svid is a few hundred bytes. */
export const X509_SVID_CACHE_ENTRIES = 1024;

/** Longest a verified chain is reused, even when its certificates live longer (the earliest notAfter bounds it too). */
export const X509_SVID_CACHE_MAX_TTL_MS = 5 * 60_000;

/** Bytes of an OAuth JWT access token (RFC 9068). Its claims are a few URLs, ids and a scope string; 8 KiB (a common
 * header-line limit) holds long scope lists and `groups`/`roles` while refusing junk before it is parsed. */
export const MAX_ACCESS_TOKEN_BYTES = 8 * 1024;

/** Longest access-token lifetime accepted (exp − iat, and exp − now). RFC 9068 sets none; ASes issue minutes to an
 * hour, some a day; a day bounds a leaked bearer token while accepting every common AS default. */
export const DEFAULT_ACCESS_TOKEN_MAX_LIFETIME_SECONDS = 24 * 60 * 60;

/** Bytes of a DPoP proof (RFC 9449 §4.2). An RS256 proof carries an RSA-4096 `jwk` (~1 KiB encoded), a 512-byte
 * signature, `htu`, `ath` and a server nonce: under 3 KiB; 8 KiB refuses a proof built to make us parse and hash. */
export const MAX_DPOP_PROOF_BYTES = 8 * 1024;

/** Seconds after its `iat` a DPoP proof is accepted (plus clock skew). RFC 9449 §11.1: "a relatively brief period
 * on the order of seconds or minutes"; a minute also bounds the replay markers kept per key. */
export const DEFAULT_DPOP_MAX_AGE_SECONDS = 60;

/** Largest `maxTokenLifetimeSeconds` a config may set for an authorization server: a week. Longer-lived bearer
 * tokens should be opaque and introspected (so revocation reaches them), not trusted offline. */
export const MAX_ACCESS_TOKEN_LIFETIME_LIMIT_SECONDS = 7 * 24 * 60 * 60;

/** Seconds an active introspection answer (RFC 7662) is reused by default: a minute keeps the AS off the hot path
 * while a revoked token stops working within a minute even without a revocation signal (which flushes at once). */
export const DEFAULT_INTROSPECTION_CACHE_SECONDS = 60;

/** Longest `introspection.cacheSeconds` a config may set: five minutes (RFC 7662 §4: caching trades freshness). */
export const MAX_INTROSPECTION_CACHE_SECONDS = 5 * 60;

/** Lifetime of one server-issued DPoP nonce (RFC 9449 §8, §9). The current and the previous nonce are accepted, so a
 * proof made with a nonce stays usable for at least one period; five minutes keeps clients from having to fetch a
 * new nonce often while bounding how long a proof made ahead of time stays usable. */
export const DPOP_NONCE_PERIOD_MS = 5 * 60_000;

/** Verified JWT access tokens kept per isolate and route, keyed by the token (≤ MAX_ACCESS_TOKEN_BYTES each):
 * a warm bearer request then costs no signature check. 1024 active tokens × 8 KiB bounds it under ~10 MiB. */
export const HOT_ACCESS_TOKEN_CACHE_ENTRIES = 1024;

/** JSON-RPC messages in one legacy MCP batch (2025-03-26 only; later revisions removed batching). Clients batch a
 * handful of calls at most, and every entry is one policy decision: 64 bounds that work per request. */
export const MAX_MCP_BATCH_ENTRIES = 64;

/** Characters of a legacy `Mcp-Session-Id`. The SDKs mint UUIDs (36); the spec also suggests JWTs or hashes, and some
 * stateless servers pack state into the id, so 1024 leaves room for those while refusing junk. It is hashed before
 * it reaches a store. */
export const MAX_MCP_SESSION_ID_LENGTH = 1024;

/** Milliseconds to wait for an RFC 7662 introspection answer, headers and body. Introspection sits on the request path
 * of every uncached opaque token, and an AS answers from its token store in milliseconds; past this the gateway answers
 * 503 rather than hold the caller (and a Workers request) open. Same bound as a key-set fetch. */
export const INTROSPECTION_TIMEOUT_MS = 5_000;

/** Bytes of an introspection answer (RFC 7662 JSON, or an RFC 9701 signed JWT). Its members are a few URLs, ids, a scope
 * string and a `cnf`; 64 KiB holds long scope and audience lists while refusing a body built to exhaust memory, and keeps
 * a cached answer far under MAX_STATE_VALUE_LENGTH. */
export const MAX_INTROSPECTION_RESPONSE_BYTES = 64 * 1024;

/** Introspection answers kept per isolate in front of `state.cache` (gateway/introspect.ts), like HOT_WIT_CACHE_ENTRIES:
 * about a thousand active tokens, each a small projection of the answer. */
export const INTROSPECTION_HOT_CACHE_ENTRIES = 1024;

/** Longest an isolate reuses an introspection answer from its own memory. A revocation flush deletes the shared copy and
 * the flushing isolate's memory at once, but cannot reach the memory of other isolates: this bounds how long they may
 * still serve a flushed answer (the revocation store, checked per request, covers that gap). */
export const INTROSPECTION_HOT_CACHE_MAX_TTL_MS = 10_000;

/** How long the gateway remembers which principal opened a legacy MCP session (Mcp-Session-Id). After that the
 * session is unknown to the gateway, which answers 404 and the client starts a new session (MCP 2025-11-25
 * transports): a day outlives every working session while bounding what the store holds. */
export const MCP_SESSION_BINDING_TTL_MS = 24 * 60 * 60_000;

/** Bytes of a Txn-Token (draft-ietf-oauth-transaction-tokens §4). Besides a few ids it carries `tctx` and `rctx`,
 * the authorization details and request context the TTS asserts, which can hold a handful of parameters each; 16 KiB
 * fits those with room while staying at half of MAX_HEADER_BYTES, so a request still has room for a WIT and a proof. */
export const MAX_TXN_TOKEN_BYTES = 16 * 1024;

/** Default Txn-Token lifetime minted by the gateway. The draft: "short-lived (on the order of minutes or less)" and
 * "MUST be used only for the expected duration of an external or internal invocation"; a minute covers a call chain
 * of a few hops with modest clock drift while keeping a leaked token's window short. */
export const DEFAULT_TXN_TOKEN_LIFETIME_SECONDS = 60;

/** Longest Txn-Token lifetime minted, and accepted by default (exp − iat). The draft sets no number but says the
 * lifetime "MUST be kept short"; ten minutes covers a slow multi-hop transaction and is "minutes", not hours. It also
 * bounds how long a rotated-out signing key must stay published (MIN_TXN_KEY_ROTATION_MS). */
export const MAX_TXN_TOKEN_LIFETIME_SECONDS = 10 * 60;

/** Default rotation period of the gateway's Txn-Token signing keys (src/txn/key-ring.ts). A day bounds how long one
 * key signs (and how much a leaked key can forge) while rotations stay rare enough that downstream verifiers,
 * refreshing their JWKS every few minutes, see the next key long before it is used. */
export const DEFAULT_TXN_KEY_ROTATION_MS = 24 * 60 * 60_000;

/** Shortest rotation period accepted. The previous period's key stays published for one whole period after a rotation,
 * so the period must outlast the longest token signed just before it plus the largest clock skew a verifier may allow:
 * MAX_TXN_TOKEN_LIFETIME_SECONDS + MAX_CLOCK_SKEW_SECONDS (15 minutes). */
export const MIN_TXN_KEY_ROTATION_MS = (MAX_TXN_TOKEN_LIFETIME_SECONDS + MAX_CLOCK_SKEW_SECONDS) * 1000;

/** Longest an isolate signs with its memo of the shared Txn-Token key ring before reading it again. Two isolates that
 * generate a period's key at the same moment converge on the stored one within this time; a minute keeps the shared
 * store off the hot path (one read per isolate per minute) and is the lifetime of a default token. */
export const TXN_KEY_RING_REREAD_MS = 60_000;

/** Candidate keys kept per period in the shared Txn-Token key ring. Normally one; a generate-if-absent race between
 * isolates can add another (each keeps the key it signed with published). Four bounds the ring against a store that
 * keeps losing writes. */
export const MAX_TXN_KEYS_PER_PERIOD = 4;

/** Bytes of a Txn-Token request body (the built-in Transaction Token Service, src/gateway/tts.ts): a subject token
 * (an access token, MAX_ACCESS_TOKEN_BYTES, or a Txn-Token, MAX_TXN_TOKEN_BYTES) percent-encoded, plus two small
 * context objects; 64 KiB holds the largest of those with room and keeps an authenticated caller from making the
 * gateway hold more. */
export const MAX_TTS_REQUEST_BYTES = 64 * 1024;

/** Characters of `request_context` / `request_details` (each, decoded), and their JSON nesting depth. They end up in
 * `rctx` / `tctx` of a token that must stay under MAX_TXN_TOKEN_BYTES and travel in a header on every hop: 4 KiB each
 * leaves that room; eight levels hold any reasonable parameter structure. */
export const MAX_TTS_CONTEXT_CHARS = 4 * 1024;
export const MAX_TTS_CONTEXT_DEPTH = 8;

/** Replacements of one Txn-Token kept in its `rctx.req_wl_chain` (draft: the TTS "SHOULD limit the number of times a
 * Txn-Token is replaced" and "MUST maintain the Call Chain"): a longer chain is refused. */
export const MAX_TXN_REPLACEMENTS = 8;

/** Bytes of a JWT authorization grant (RFC 7523 §2.1; identity-chaining §2.4) presented to the Transaction Token
 * Service. Its claims are those of an access token at most (iss, sub, aud, exp, iat, jti, scope, client_id):
 * MAX_ACCESS_TOKEN_BYTES' reasoning applies. */
export const MAX_GRANT_BYTES = 8 * 1024;

/** Longest JWT authorization grant lifetime accepted by default (exp − iat, or exp − now without iat).
 * Identity-chaining §5 mitigates grant replay with short-lived grants; its example lives 60 seconds. */
export const DEFAULT_GRANT_MAX_LIFETIME_SECONDS = 5 * 60;

/** Largest `maxLifetimeSeconds` a federation entry may configure: an hour. A grant is presented once, right after
 * it is issued; a longer life only widens the replay window. */
export const MAX_GRANT_LIFETIME_LIMIT_SECONDS = 60 * 60;

/** Default lifetime of a relying-party token (a secondary credential, `transactionTokens.service.relyingParties`):
 * five minutes, the order of a WIT's own lifetime, for a legacy system that takes one JWT per session or call. */
export const DEFAULT_RELYING_PARTY_TOKEN_LIFETIME_SECONDS = 300;

/** Longest relying-party token lifetime configurable. An hour bounds what a leaked secondary credential is worth; the
 * TTS also never issues one past the requester's WIT `exp`, nor longer than the signing key stays published
 * (keyRotationSeconds − MAX_CLOCK_SKEW_SECONDS). */
export const MAX_RELYING_PARTY_TOKEN_LIFETIME_SECONDS = 60 * 60;

/** Token requests to authorization servers on egress (and to an external TTS): a token endpoint answers in well
 * under a second; five seconds bounds how long a request waits on a slow one before failing (502/503). */
export const EGRESS_TIMEOUT_MS = 5_000;

/** Bytes of a token endpoint's JSON answer: an access token, a grant and a few members fit in a few KiB; 64 KiB
 * refuses a runaway body before it is parsed. */
export const EGRESS_MAX_RESPONSE_BYTES = 64 * 1024;

/** A cached foreign token (egress) is dropped this long before it, or the caller's token, expires, so a request
 * never leaves with a token about to lapse on the way. */
export const EGRESS_CACHE_MARGIN_MS = 30_000;

/** Lifetime assumed for a foreign token whose answer has no expires_in (RFC 6749 §5.1: only RECOMMENDED): a minute,
 * the short end of common lifetimes, so an unknown one is never trusted for long. */
export const DEFAULT_FOREIGN_TOKEN_TTL_MS = 60_000;

/** Foreign tokens kept per isolate (egress), keyed by caller and route: 1024 active callers. */
export const EGRESS_HOT_CACHE_ENTRIES = 1024;

/** Default seconds a fetched Agent Card is reused before it is revalidated with the upstream, and the max-age callers
 * get. Five minutes: a card changes with deployments, and a stale one only costs a client a failed call and a refetch. */
export const DEFAULT_A2A_CARD_MAX_AGE_SECONDS = 300;

/** Longest card max-age. A signed card must still verify while a client holds it: the key that signed it stays
 * published for at least one rotation period (src/txn/key-ring.ts), and the shortest period is 15 minutes
 * (MIN_TXN_KEY_ROTATION_MS); config validation also keeps maxAgeSeconds within agentCards.keyRotationSeconds. */
export const MAX_A2A_CARD_MAX_AGE_SECONDS = 15 * 60;

/** Bytes of an Agent Card read from an upstream (public or extended). The spec's example card is 3 KiB; a card with
 * a few hundred skills stays under 256 KiB, and the bound keeps a broken upstream from making the gateway parse more. */
export const MAX_A2A_CARD_BYTES = 256 * 1024;

/** Seconds an upstream may keep failing while the gateway goes on serving its last good card (then 502): the
 * upstream being down does not make its card wrong, but a card must not outlive a removed agent by much. */
export const A2A_CARD_MAX_STALE_SECONDS = 60 * 60;

/** Interfaces in an Agent Card (src/a2a/agent-card.ts): three bindings (JSONRPC, GRPC, HTTP+JSON) in two protocol
 * versions, a few times over for tenants, stay well under 32; more is a broken or hostile card, not an agent. */
export const MAX_A2A_CARD_INTERFACES = 32;

/** Skills in an Agent Card: MAX_A2A_CARD_BYTES holds "a few hundred skills"; 512 leaves room for terse ones and bounds
 * the per-skill work (requirements, extended card filtering) whatever the bytes. */
export const MAX_A2A_CARD_SKILLS = 512;

/** Entries of any other list or map in an Agent Card (tags, examples, modes, extensions, signatures, security schemes,
 * requirements, scopes). The gateway's own card needs the most: a route may name 64 authorization servers
 * (MAX_CONFIG_LIST_ENTRIES), each ANDed with up to two WIMSE proofs (128 requirements), and a scope list per server. */
export const MAX_A2A_CARD_LIST_ENTRIES = 256;

/** Nesting depth of the free-form JSON in a card (extension `params`, signature `header`: google.protobuf.Struct).
 * Real ones are flat configuration objects; the bound keeps copying and canonicalising (recursive) off deep inputs. */
export const MAX_A2A_CARD_VALUE_DEPTH = 16;

/** Characters of an A2A task id (JSON-RPC params, REST path) and of a JSON-RPC request id. Agents generate task ids
 * (a2a-js: UUIDs, 36 characters); 1 KiB leaves room for other servers' encodings (resource names, signed ids) while
 * keeping what the gateway logs and keys per task small. */
export const MAX_A2A_ID_LENGTH = 1024;

/** Characters of an A2A JSON-RPC method name. The longest A2A name is 35 characters
 * ("tasks/pushNotificationConfig/delete"); 256 leaves room for extension methods and bounds what reaches the audit log. */
export const MAX_A2A_METHOD_LENGTH = 256;

/** Push notification URLs one A2A call may carry. A call registers one config; spelling it in every alias of both
 * protocol versions at once stays under 8, so more is no client's honest request, only work for the allow-list. */
export const MAX_A2A_PUSH_URLS = 8;

/** Characters of a push notification URL, as of the allow-list prefixes in config (src/config/a2a.ts): 2 KiB is the
 * URL length every common HTTP stack accepts, and webhook URLs (an origin, a path with a token) stay well below it. */
export const MAX_A2A_PUSH_URL_LENGTH = 2048;

/** Seconds a failed card fetch is answered again without asking the upstream: the card path is unauthenticated, so
 * without it every caller's request would reach a failing upstream. Ten seconds keeps recovery prompt. */
export const A2A_CARD_RETRY_SECONDS = 10;
