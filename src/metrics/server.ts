/**
 * The HTTP endpoint of a long-running command (`--metrics-addr`):
 * `/metrics` in the Prometheus text format, `/healthz` as 200 or 503 with a
 * JSON body that says why. It binds only the address it is given.
 */

import type { HealthStatus } from "./health.ts";
import { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";

/** What the endpoint serves. */
export interface MetricsSource {
  /** The exposition text. */
  metrics(): Promise<string>;
  /** The health now. */
  health(): HealthStatus;
}

/** A running endpoint. */
export interface MetricsServer {
  /** The address it listens on (the port is the real one when 0 was asked). */
  readonly hostname: string;
  readonly port: number;
  /** Stops serving. */
  close(): Promise<void>;
}

/** Parses `host:port` (`[::1]:9464` for IPv6), or throws a RangeError that names the value. */
export function parseHostPort(text: string): { hostname: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new RangeError(
      `Invalid --metrics-addr "${text}": expected host:port, such as 127.0.0.1:9464`,
    );
  }
  return { hostname: m[1] ?? m[2]!, port };
}

/** Serves `/metrics` and `/healthz` on `hostname:port`. */
export function serveMetrics(
  address: { hostname: string; port: number },
  source: MetricsSource,
): MetricsServer {
  let server: Deno.HttpServer;
  try {
    server = listen(address, source);
  } catch (error) {
    const where = `${
      address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname
    }:${address.port}`;
    const why = error instanceof Deno.errors.AddrInUse
      ? "the address is already in use (another neuralake, or another server?): pick another port"
      : error instanceof Deno.errors.AddrNotAvailable
      ? "no interface of this machine has that address"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied (ports below 1024 need privileges)"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new Error(`Cannot serve /metrics on ${where} (--metrics-addr): ${why}`, { cause: error });
  }
  const addr = server.addr as Deno.NetAddr;
  return { hostname: addr.hostname, port: addr.port, close: () => server.shutdown() };
}

function listen(
  address: { hostname: string; port: number },
  source: MetricsSource,
): Deno.HttpServer {
  return Deno.serve(
    { hostname: address.hostname, port: address.port, onListen: () => {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response("Method not allowed\n", { status: 405 });
      }
      if (path === "/metrics") {
        return new Response(await source.metrics(), {
          headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
        });
      }
      if (path === "/healthz") {
        const status = source.health();
        return Response.json(
          { status: status.healthy ? "ok" : "unhealthy", reasons: status.reasons },
          { status: status.healthy ? 200 : 503 },
        );
      }
      return new Response("Not found: try /metrics or /healthz\n", { status: 404 });
    },
  );
}
