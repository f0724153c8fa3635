/**
 * The HTTP exchange under the S3 client: one request out, one complete
 * response back through `fetch`, with no S3 meaning attached.
 *
 * One HTTP stack on purpose. Bodies of 1 MiB or more used to go through
 * `node:http`, which hands the caller's bytes to the socket where `fetch`
 * copies them twice (about 3 ms of CPU per MiB), at the price of a second
 * stack, proxy and certificate sniffing to choose between them, and a
 * conformance run per stack. Measured against MinIO on 127.0.0.1
 * (2026-11-30, a 2-core machine shared with other work, load 13-23,
 * alternating the two, medians): the default 10 s `neuralake stream` on
 * S3 (data files ~430 KiB) and a variant with ~1 MiB files (--batch-rows
 * 250000 --batch-interval 2s) ran 0.80-1.79x as fast with `node:http` as
 * with `fetch` across pairs in both directions, i.e. no difference beyond
 * noise; a loop of PUT + GET of 1-8 MiB objects: 1.03x (ratio of medians),
 * 0.83x (median of pair ratios); only PUTs alone of 1-32 MiB showed 1.30x.
 * End to end nothing is worth the 5 % the second stack would have to earn,
 * so `fetch` carries everything, and proxies (`HTTPS_PROXY`, ...) and
 * Deno's certificate settings (`DENO_CERT`, `--cert`) apply to every
 * request alike.
 *
 * Invariants:
 * - Aborting `signal` ends the exchange at any point, body included, and the
 *   promise rejects with `signal.reason`.
 * - A connection that closes before the response is complete rejects (with
 *   fetch's `TypeError`), never resolves with a truncated body.
 * - A request body of `CLOSE_AFTER_BODY_BYTES` or more goes on a connection
 *   that closes after the response (`connection: close`). A pooled keep-alive
 *   connection holds on to the last body it sent (fetch's copy, outside the
 *   V8 heap) for as long as it stays in the pool: measured under Deno 2.9.6
 *   against MinIO, 30 PUTs of 32 MiB interleaved with 8 concurrent GETs left
 *   288 MiB of such copies alive after garbage collection (nine connections'
 *   worth), and the compactor of a 20-minute soak on MinIO grew to 1.35 GiB
 *   resident. With the connection closed: 32 MiB, that of the caller's buffer.
 *   A new connection per megabyte-sized upload costs little beside the upload.
 */

/** Request bodies at least this large close their connection after the response. */
export const CLOSE_AFTER_BODY_BYTES = 1024 * 1024;

/** One request, signed and ready to go. */
export interface HttpExchange {
  method: string;
  url: string;
  /** Header names lower-case; no `host` (it follows from `url`). */
  headers: Record<string, string>;
  body: Uint8Array | undefined;
  signal: AbortSignal;
}

/** One complete response. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** The whole body; empty for HEAD. */
  body: Uint8Array;
}

/** Sends one request and reads the whole response. */
export async function sendHttp(exchange: HttpExchange): Promise<HttpAnswer> {
  const large = (exchange.body?.length ?? 0) >= CLOSE_AFTER_BODY_BYTES;
  const res = await fetch(exchange.url, {
    method: exchange.method,
    headers: large ? { ...exchange.headers, connection: "close" } : exchange.headers,
    body: (exchange.body ?? null) as Uint8Array<ArrayBuffer> | null,
    signal: exchange.signal,
    redirect: "manual",
  });
  let body: Uint8Array;
  if (exchange.method === "HEAD") {
    await res.body?.cancel();
    body = new Uint8Array(0);
  } else {
    body = new Uint8Array(await res.arrayBuffer());
  }
  return { status: res.status, headers: res.headers, body };
}
