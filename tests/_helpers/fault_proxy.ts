/**
 * A fault-injecting HTTP/1.1 proxy for S3 tests, on 127.0.0.1.
 *
 * The client signs its requests for the proxy's address (point its endpoint
 * at `proxy.endpoint`), and the proxy forwards the request bytes unchanged,
 * so the upstream server checks a valid signature. Per request, a rule picks
 * an action: forward, answer with an S3 error (503 SlowDown, say), reset the
 * connection, delay, forward and then drop the response, forward later
 * after dropping the client, or turn a 412 into a 200 (a server that ignores
 * `If-None-Match`).
 *
 * Invariants:
 * - It is a raw TCP server (`Deno.listen`), because `Deno.serve` cannot close
 *   a connection without sending a response, which is the fault that matters
 *   most ("the server applied the write, the client never heard").
 * - One request per client connection, and `Connection: close` on every
 *   answer, so a dropped connection never poisons a pooled one.
 * - Requests with `Transfer-Encoding: chunked` are refused (501): our client
 *   always sends a length.
 */

/** A request as rules see it. */
export interface ProxiedRequest {
  method: string;
  /** The raw (encoded) path. */
  path: string;
  query: URLSearchParams;
  /** Header names lower-case. */
  headers: Map<string, string>;
  bodyLength: number;
}

/** What the proxy does with one request. */
export type FaultAction =
  | { kind: "forward" }
  /** Answer without forwarding, with an S3 error document. */
  | {
    kind: "respond";
    status: number;
    code?: string;
    message?: string;
    headers?: Record<string, string>;
  }
  /** Close the connection without forwarding or answering. */
  | { kind: "reset" }
  /** Wait, then forward and answer (`before`), or forward, wait, then answer (`after`). */
  | { kind: "delay"; ms: number; when?: "before" | "after" }
  /** Forward, let the server apply it, then close the client connection without answering. */
  | { kind: "drop-after-apply" }
  /** Close the client connection at once, and forward the request `ms` later. */
  | { kind: "apply-later"; ms: number }
  /** Forward; if the server answers 412, answer 200 instead. */
  | { kind: "precondition-to-ok" };

/** One handled request, for assertions. */
export interface ProxyLogEntry {
  method: string;
  path: string;
  query: string;
  action: FaultAction["kind"];
  /** Request headers, names lower-case. */
  headers: Map<string, string>;
  bodyLength: number;
  /** The status the upstream server answered, if the request was forwarded. */
  upstreamStatus?: number;
}

const CRLF2 = new TextEncoder().encode("\r\n\r\n");

/** A running fault proxy. */
export class FaultProxy {
  /** The endpoint to give the client: `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Every request seen, in arrival order. */
  readonly log: ProxyLogEntry[] = [];
  /** The rule for requests that no plan matches. @default forward */
  rule: (request: ProxiedRequest) => FaultAction = () => ({ kind: "forward" });
  readonly #listener: Deno.TcpListener;
  readonly #upstream: { hostname: string; port: number };
  readonly #plans: { match: (r: ProxiedRequest) => boolean; actions: FaultAction[] }[] = [];
  readonly #tasks = new Set<Promise<void>>();
  readonly #conns = new Set<Deno.Conn>();
  #closed = false;
  readonly #accepting: Promise<void>;

  private constructor(listener: Deno.TcpListener, upstream: string) {
    this.#listener = listener;
    const url = new URL(upstream);
    this.#upstream = {
      hostname: url.hostname,
      port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    };
    this.endpoint = `http://127.0.0.1:${listener.addr.port}`;
    this.#accepting = this.#accept();
  }

  /** Starts a proxy in front of `upstream` (an `http://host:port` endpoint). */
  static start(upstream: string): FaultProxy {
    return new FaultProxy(Deno.listen({ hostname: "127.0.0.1", port: 0 }), upstream);
  }

  /**
   * Queues actions for the next requests that `match`: the first matching
   * request gets `actions[0]`, the next `actions[1]`, and so on. Plans are
   * consulted in the order they were added, before `rule`.
   */
  plan(match: (request: ProxiedRequest) => boolean, ...actions: FaultAction[]): void {
    this.#plans.push({ match, actions: [...actions] });
  }

  /** The log entries for one method, optionally with a query parameter present. */
  requests(method: string, queryParam?: string): ProxyLogEntry[] {
    return this.log.filter((e) =>
      e.method === method &&
      (queryParam === undefined || new URLSearchParams(e.query).has(queryParam))
    );
  }

  /** Stops listening, and waits for requests in progress (including late applies). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listener.close();
    await this.#accepting;
    while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
    for (const conn of this.#conns) tryClose(conn);
  }

  async #accept(): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // closed
      }
      if (this.#closed) {
        tryClose(conn);
        return;
      }
      this.#track(this.#handle(conn));
    }
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch(() => {}).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  async #handle(client: Deno.Conn): Promise<void> {
    this.#conns.add(client);
    try {
      const raw = await readRequest(client);
      if (!raw) return;
      const request = raw.request;
      const action = this.#choose(request);
      const entry: ProxyLogEntry = {
        method: request.method,
        path: request.path,
        query: request.query.toString(),
        action: action.kind,
        headers: request.headers,
        bodyLength: request.bodyLength,
      };
      this.log.push(entry);
      if (raw.chunked) {
        await writeAll(client, errorResponse(501, "NotImplemented", "chunked bodies", {}));
        return;
      }
      switch (action.kind) {
        case "reset":
          return;
        case "respond":
          await writeAll(
            client,
            errorResponse(action.status, action.code, action.message, action.headers ?? {}),
          );
          return;
        case "apply-later":
          tryClose(client);
          this.#track((async () => {
            await new Promise((r) => setTimeout(r, action.ms));
            const answer = await this.#forward(raw.bytes);
            entry.upstreamStatus = answer.status;
          })());
          return;
        case "delay":
          if ((action.when ?? "after") === "before") {
            await new Promise((r) => setTimeout(r, action.ms));
          }
          break;
      }
      const answer = await this.#forward(raw.bytes);
      entry.upstreamStatus = answer.status;
      if (action.kind === "drop-after-apply") return;
      if (action.kind === "delay" && (action.when ?? "after") === "after") {
        await new Promise((r) => setTimeout(r, action.ms));
      }
      if (action.kind === "precondition-to-ok" && answer.status === 412) {
        await writeAll(client, plainResponse(200, "OK", { etag: '"00"' }, new Uint8Array(0)));
        return;
      }
      await writeAll(client, answer.bytes);
    } finally {
      this.#conns.delete(client);
      tryClose(client);
    }
  }

  #choose(request: ProxiedRequest): FaultAction {
    for (const plan of this.#plans) {
      if (plan.actions.length > 0 && plan.match(request)) return plan.actions.shift()!;
    }
    return this.rule(request);
  }

  /** Sends the request bytes upstream on a fresh connection; returns the answer. */
  async #forward(bytes: Uint8Array): Promise<{ status: number; bytes: Uint8Array }> {
    const upstream = await Deno.connect(this.#upstream);
    try {
      await writeAll(upstream, withConnectionClose(bytes));
      const chunks: Uint8Array[] = [];
      const buffer = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await upstream.read(buffer);
        if (n === null) break;
        chunks.push(buffer.slice(0, n));
      }
      const answer = skipInterim(concat(chunks));
      const head = new TextDecoder().decode(answer.subarray(0, Math.min(answer.length, 64)));
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      return { status, bytes: withConnectionClose(answer) };
    } finally {
      tryClose(upstream);
    }
  }
}

/** Reads one request: head, and a body of `Content-Length` bytes. */
async function readRequest(
  conn: Deno.Conn,
): Promise<{ request: ProxiedRequest; bytes: Uint8Array; chunked: boolean } | undefined> {
  let data: Uint8Array = new Uint8Array(0);
  const buffer = new Uint8Array(64 * 1024);
  let headEnd = -1;
  while (headEnd < 0) {
    const n = await conn.read(buffer);
    if (n === null) return undefined;
    data = concat([data, buffer.subarray(0, n)]);
    headEnd = indexOf(data, CRLF2);
  }
  const head = new TextDecoder().decode(data.subarray(0, headEnd));
  const [requestLine, ...headerLines] = head.split("\r\n");
  const [method = "", target = "/"] = requestLine!.split(" ");
  const headers = new Map<string, string>();
  for (const line of headerLines) {
    const colon = line.indexOf(":");
    if (colon > 0) {
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
  }
  const length = Number(headers.get("content-length") ?? 0);
  const total = headEnd + 4 + length;
  const chunked = /chunked/i.test(headers.get("transfer-encoding") ?? "");
  const parts = [data];
  let have = data.length;
  while (!chunked && have < total) {
    const n = await conn.read(buffer);
    if (n === null) return undefined;
    parts.push(buffer.slice(0, n));
    have += n;
  }
  const bytes = concat(parts).subarray(0, chunked ? data.length : total);
  const q = target.indexOf("?");
  return {
    request: {
      method,
      path: q < 0 ? target : target.slice(0, q),
      query: new URLSearchParams(q < 0 ? "" : target.slice(q + 1)),
      headers,
      bodyLength: length,
    },
    bytes,
    chunked,
  };
}

/**
 * Rewrites a message head to carry `Connection: close`, and drops `Expect`
 * (the proxy already holds the whole body). Neither header is signed.
 */
function withConnectionClose(message: Uint8Array): Uint8Array {
  const end = indexOf(message, CRLF2);
  if (end < 0) return message;
  const head = new TextDecoder().decode(message.subarray(0, end));
  const lines = head.split("\r\n").filter((line) =>
    !/^(connection|keep-alive|expect)\s*:/i.test(line)
  );
  lines.push("Connection: close");
  return concat([new TextEncoder().encode(lines.join("\r\n")), message.subarray(end)]);
}

/** Drops interim `1xx` answers (such as 100 Continue) before the final one. */
function skipInterim(answer: Uint8Array): Uint8Array {
  while (/^HTTP\/1\.[01] 1\d\d/.test(new TextDecoder().decode(answer.subarray(0, 12)))) {
    const end = indexOf(answer, CRLF2);
    if (end < 0) break;
    answer = answer.subarray(end + 4);
  }
  return answer;
}

function errorResponse(
  status: number,
  code: string | undefined,
  message: string | undefined,
  headers: Record<string, string>,
): Uint8Array {
  const body = code === undefined ? new Uint8Array(0) : new TextEncoder().encode(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${
      message ?? "Injected by the fault proxy"
    }</Message><RequestId>fault-proxy</RequestId></Error>`,
  );
  return plainResponse(status, "Injected", { "content-type": "application/xml", ...headers }, body);
}

function plainResponse(
  status: number,
  reason: string,
  headers: Record<string, string>,
  body: Uint8Array,
): Uint8Array {
  const all: Record<string, string> = {
    date: new Date().toUTCString(),
    ...headers,
    "content-length": String(body.length),
    connection: "close",
  };
  const head = `HTTP/1.1 ${status} ${reason}\r\n` +
    Object.entries(all).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
  return concat([new TextEncoder().encode(head), body]);
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  try {
    while (written < bytes.length) written += await conn.write(bytes.subarray(written));
  } catch {
    // The client gave up (timed out): nothing to tell it.
  }
}

function tryClose(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
