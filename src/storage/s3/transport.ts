/**
 * The HTTP exchange under the S3 client: one request out, one complete
 * response back, with no S3 meaning attached.
 *
 * Requests with a body of `NODE_HTTP_MIN_BODY` or more (data files and
 * multipart parts) go through `node:http(s)` by default, the others through
 * `fetch`. Deno's `fetch` snapshots a request body (a copy in JavaScript) and
 * copies it again into the runtime before sending: about 3 ms of CPU per MiB,
 * 200 ms for a 64 MiB object, four times the SHA-256 of it. `node:http` hands
 * the caller's bytes to the socket as they are, but its JavaScript HTTP layer
 * costs about 1 ms more per request, so small requests (commits above all)
 * stay on `fetch`. Downloads stay on `fetch` too, which delivers a response
 * body as one buffer, where `node:http` would hand out chunks to be joined.
 *
 * Invariants:
 * - On the `node:http` path the body sent is the caller's `Uint8Array`, never
 *   a copy. Every body carries an explicit `Content-Length` (S3 refuses
 *   chunked uploads).
 * - Aborting `signal` ends the exchange at any point, body included, and the
 *   promise rejects with `signal.reason`.
 * - A connection that closes before the response is complete rejects with an
 *   error whose `code` is `ECONNRESET` (Node's own, or `HttpConnectionError`),
 *   never resolves with a truncated body.
 * - Only `fetch` honours `HTTP_PROXY` / `HTTPS_PROXY` / `ALL_PROXY` and
 *   Deno's certificate settings (`DENO_CERT`, `DENO_TLS_CA_STORE`, `--cert`),
 *   so the configuration picks `fetch` for bodies when they are in play (see
 *   `bodyTransport` in `S3Options`): an upload never takes another route, or
 *   trusts other certificates, than the rest of the requests.
 */

import http from "node:http";
import https from "node:https";

/** How requests that carry a large body are sent. */
export type BodyTransport = "node-http" | "fetch";

/**
 * The smallest body that goes through `node:http` under `"node-http"`: from
 * here on the copies that `fetch` makes cost more than `node:http`'s own
 * per-request overhead (measured at 1 KiB to 1 MiB against the test server).
 */
export const NODE_HTTP_MIN_BODY = 1024 * 1024;

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

/**
 * A connection that failed without a `fetch`-style `TypeError`, with the
 * errno-style `code` that `classifyFailure` reads (`ECONNRESET`, ...).
 */
export class HttpConnectionError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HttpConnectionError";
    this.code = code;
  }
}

/** Sends requests for one S3 client, keeping its connections alive between them. */
export class HttpTransport {
  readonly bodyTransport: BodyTransport;
  #agent: http.Agent | undefined;

  constructor(bodyTransport: BodyTransport) {
    this.bodyTransport = bodyTransport;
  }

  /** Sends one request and reads the whole response. */
  send(exchange: HttpExchange): Promise<HttpAnswer> {
    if (
      this.bodyTransport === "node-http" && exchange.body !== undefined &&
      exchange.body.length >= NODE_HTTP_MIN_BODY
    ) {
      return this.#sendNode(exchange, exchange.body);
    }
    return sendFetch(exchange);
  }

  /** Closes idle pooled connections of the `node:http` path. */
  close(): void {
    this.#agent?.destroy();
    this.#agent = undefined;
  }

  #sendNode(exchange: HttpExchange, body: Uint8Array): Promise<HttpAnswer> {
    const url = new URL(exchange.url);
    const secure = url.protocol === "https:";
    const agent = this.#agent ??= secure
      ? new https.Agent({ keepAlive: true })
      : new http.Agent({ keepAlive: true });
    const request = secure ? https.request : http.request;
    const signal = exchange.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        fn();
      };
      const fail = (error: unknown) => settle(() => reject(error));
      const req = request({
        method: exchange.method,
        // `URL.hostname` keeps the brackets of an IPv6 literal; sockets want it bare.
        hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: url.port || (secure ? 443 : 80),
        path: url.pathname + url.search,
        headers: { ...exchange.headers, host: url.host, "content-length": String(body.length) },
        agent,
      }, (res) => {
        const chunks: Uint8Array[] = [];
        let length = 0;
        res.on("data", (chunk: Uint8Array) => {
          chunks.push(chunk);
          length += chunk.length;
        });
        res.on("error", fail);
        res.on("end", () => {
          const headers = new Headers();
          const raw = res.rawHeaders;
          for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
          settle(() =>
            resolve({ status: res.statusCode ?? 0, headers, body: concat(chunks, length) })
          );
        });
        res.on("close", () => {
          if (!res.complete) {
            fail(
              new HttpConnectionError(
                `The connection to ${url.host} closed before the response was complete`,
                "ECONNRESET",
              ),
            );
          }
        });
      });
      req.on("error", fail);
      const onAbort = () => {
        fail(signal.reason);
        req.destroy();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      req.end(body);
    });
  }
}

async function sendFetch(exchange: HttpExchange): Promise<HttpAnswer> {
  const res = await fetch(exchange.url, {
    method: exchange.method,
    headers: exchange.headers,
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

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  // Node hands out `Buffer`s; callers get plain `Uint8Array` views.
  if (chunks.length === 1) {
    const only = chunks[0]!;
    return new Uint8Array(only.buffer, only.byteOffset, only.byteLength);
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
