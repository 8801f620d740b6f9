/**
 * Where a workload may send its WIT and proofs. draft-ietf-wimse-workload-creds-02 §9: the WIT and its proof
 * "MUST be sent over a secure, server-authenticated TLS connection unless a secure channel is provided by some
 * other mechanism". So: `https:` always; `http:` only to a loopback host (the traffic never leaves the machine:
 * the local dev stack), or anywhere when the caller says another mechanism secures the channel (a mesh
 * sidecar with mTLS) via `allowInsecureHttp`. Any other scheme is refused.
 *
 * Loopback means `localhost`, 127.0.0.0/8 and `[::1]`. Not included: `*.localhost` (RFC 6761 §6.3 says it
 * resolves to loopback, but resolvers without that rule send it to DNS, so the credentials could leave the
 * machine in clear text), other spellings of loopback (IPv4-mapped IPv6), and names that merely resolve to
 * 127.0.0.1.
 */

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Why `url` must not carry workload credentials, or `undefined` when it may. */
export function transportProblem(url: URL, allowInsecureHttp: boolean): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `refusing to send workload credentials over ${url.protocol.replace(/:$/, '')}`;
  if (allowInsecureHttp || isLoopbackHost(url.hostname)) return undefined;
  return `refusing to send workload credentials over plain http to ${url.hostname} (workload-creds-02 §9 requires TLS); use https, or set allowInsecureHttp when another mechanism secures the channel`;
}
