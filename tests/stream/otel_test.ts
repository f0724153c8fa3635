/**
 * With OTEL_DENO=true a stream exports meaningful spans through Deno's
 * built-in OpenTelemetry: one `batch` span per batch with `encode`,
 * `upload` and `commit` children, and one span per compaction and vacuum
 * pass. A tiny OTLP/HTTP (JSON) receiver on 127.0.0.1 collects them.
 */

import { assert } from "../_helpers/assert.ts";
import { checkRun, stream } from "../_helpers/stream_run.ts";

interface OtlpSpan {
  name: string;
  spanId: string;
  parentSpanId: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}

Deno.test("stream exports a span per batch with encode, upload and commit children, and per maintenance pass", async () => {
  const spans: OtlpSpan[] = [];
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      if (new URL(req.url).pathname === "/v1/traces") {
        const body = await req.json();
        for (const rs of body.resourceSpans ?? []) {
          for (const ss of rs.scopeSpans ?? []) {
            if (ss.scope?.name === "neuralake") spans.push(...ss.spans);
          }
        }
      } else await req.body?.cancel();
      return Response.json({});
    },
  );
  try {
    const dir = await Deno.makeTempDir({ prefix: "neuralake-otel-" });
    const run = await stream(`${dir}/table`, `${dir}/out`, ["--duration", "8s", "--writers", "2"], {
      env: {
        OTEL_DENO: "true",
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.addr.port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_DENO_CONSOLE: "ignore",
        OTEL_SERVICE_NAME: "neuralake-test",
      },
    });
    checkRun(run, 2);
    // Exports are batched: give the last ones a moment to arrive.
    for (let i = 0; i < 20 && !spans.some((s) => s.name === "vacuum"); i++) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const names = new Set(spans.map((s) => s.name));
    for (const name of ["batch", "encode", "upload", "commit", "compaction", "vacuum"]) {
      assert(names.has(name), `no ${name} span among ${[...names].join(", ")}`);
    }
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const batches = spans.filter((s) => s.name === "batch");
    const complete = batches.filter((b) => {
      const children = spans.filter((s) => s.parentSpanId === b.spanId).map((s) => s.name);
      return ["encode", "upload", "commit"].every((n) => children.includes(n));
    });
    assert(complete.length > 0, `no batch span has encode, upload and commit children`);
    for (const s of spans.filter((s) => ["encode", "upload", "commit"].includes(s.name))) {
      assert(byId.get(s.parentSpanId)?.name === "batch", `${s.name} is not under a batch`);
    }
    assert(
      batches.some((b) => b.attributes.some((a) => a.key === "neuralake.writer")),
      "batch spans name their writer",
    );
  } finally {
    await receiver.shutdown();
  }
});
