/**
 * Spans for Deno's built-in OpenTelemetry export. With `OTEL_DENO=true`
 * Deno exports traces over OTLP (to `localhost:4318` unless
 * `OTEL_EXPORTER_OTLP_ENDPOINT` says otherwise), and its tracer provider
 * (`Deno.telemetry.tracerProvider`) serves the OpenTelemetry API without
 * any package. Without it, `span()` only runs its function: no tracer is
 * touched and nothing is allocated for tracing.
 *
 * Invariant: a span ends exactly once, when its function settles; a thrown
 * error marks it as an error (status code 2) and is rethrown unchanged.
 */

/** The span attributes neuralake sets: plain values only. */
export type SpanAttributes = Record<string, string | number | boolean>;

/** The part of an OpenTelemetry span that neuralake uses. */
export interface ActiveSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
}

interface OtelSpan extends ActiveSpan {
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

interface OtelTracer {
  startActiveSpan<T>(
    name: string,
    options: { attributes?: SpanAttributes },
    fn: (span: OtelSpan) => T,
  ): T;
}

const enabled = ["true", "1"].includes((Deno.env.get("OTEL_DENO") ?? "").toLowerCase());
let tracer: OtelTracer | undefined;

/**
 * Runs `fn` inside a span called `name`, a child of the span active at the
 * call (spans started inside `fn` become its children).
 *
 * @example
 * ```ts
 * const rows = await span("batch", { "neuralake.writer": "writer-0" }, async (s) => {
 *   s.setAttribute("neuralake.rows", 500);
 *   return 500;
 * });
 * ```
 */
export function span<T>(
  name: string,
  attributes: SpanAttributes,
  fn: (span: ActiveSpan) => Promise<T> | T,
): Promise<T> {
  if (!enabled) return Promise.resolve().then(() => fn(NO_SPAN));
  tracer ??= Deno.telemetry.tracerProvider.getTracer("neuralake") as unknown as OtelTracer;
  return tracer.startActiveSpan(name, { attributes }, async (s: OtelSpan) => {
    try {
      return await fn(s);
    } catch (error) {
      s.setStatus({ code: 2, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      s.end();
    }
  });
}

const NO_SPAN: ActiveSpan = { setAttribute: () => undefined };
