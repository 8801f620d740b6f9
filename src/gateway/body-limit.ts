/**
 * Bounding request bodies without buffering them. A declared `Content-Length` over the limit is refused
 * before anything is sent upstream; a body without one is counted as it streams, and the stream errors at
 * the first byte past the limit, which aborts the upstream request.
 */

export function declaredLengthExceeds(headers: Headers, limit: number): boolean {
  const declared = headers.get('content-length');
  if (declared === null) return false;
  const n = Number(declared);
  return !Number.isSafeInteger(n) || n < 0 || n > limit;
}

export function limitBody(body: ReadableStream<Uint8Array>, limit: number, onExceeded: () => void): ReadableStream<Uint8Array> {
  let seen = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen > limit) {
          onExceeded();
          controller.error(new RangeError(`request body exceeds ${limit} bytes`));
        }
        else controller.enqueue(chunk);
      },
    }),
  );
}
