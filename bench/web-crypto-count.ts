/** Counts the `crypto.subtle.verify` and `digest` calls `run` makes: what a benchmark's raw Web Crypto floor must repeat. */
export async function countWebCrypto(run: () => Promise<unknown>): Promise<{ verify: number; digest: number }> {
  const subtle = crypto.subtle;
  const counted = { verify: 0, digest: 0 };
  const { verify, digest } = subtle;
  subtle.verify = ((...a: Parameters<typeof verify>) => { counted.verify++; return verify.apply(subtle, a); }) as typeof verify;
  subtle.digest = ((...a: Parameters<typeof digest>) => { counted.digest++; return digest.apply(subtle, a); }) as typeof digest;
  try {
    await run();
  } finally {
    subtle.verify = verify;
    subtle.digest = digest;
  }
  return counted;
}
