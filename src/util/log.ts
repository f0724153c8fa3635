/**
 * Structured logging through @logtape/logtape: one configuration per isolate
 * (the main thread and every worker call `setupLogging`), records written
 * synchronously to stderr as JSON Lines or as text. A synchronous sink is
 * used on purpose: a stream sink is closed by `dispose()`, after which
 * stderr writes fail. No log line shows the user information of a URL
 * (`redactUserinfo`), whatever a message or its properties hold.
 */

import {
  configureSync,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type Logger,
  type LogLevel,
  type LogRecord,
  resetSync,
} from "@logtape/logtape";
import { redactUserinfo } from "./redact.ts";

/** The levels `--log-level` accepts. */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal", "off"] as const;

/** A `--log-level` value. */
export type LogLevelName = typeof LOG_LEVELS[number];

/** How log records look. */
export type LogFormat = "json" | "text";

const encoder = new TextEncoder();

/** Configures logging for this isolate. Safe to call again (reconfigures). */
export function setupLogging(level: LogLevelName, format: LogFormat = "json"): void {
  const formatter = format === "json"
    ? jsonLinesFormatter
    : getTextFormatter({ timestamp: "date-time" });
  const sink = (record: LogRecord) => {
    try {
      Deno.stderr.writeSync(encoder.encode(redactUserinfo(formatter(record))));
    } catch {
      // stderr is gone (the parent closed it): logging must never crash the job.
    }
  };
  resetSync();
  configureSync({
    reset: true,
    sinks: { stderr: sink },
    loggers: [
      {
        category: ["neuralake"],
        lowestLevel: (level === "off" ? "fatal" : level) as LogLevel,
        sinks: level === "off" ? [] : ["stderr"],
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
}

/** Returns the logger for a part of the program, such as `log("writer")`. */
export function log(...category: string[]): Logger {
  return getLogger(["neuralake", ...category]);
}

/** Parses a `--log-level` value. */
export function parseLogLevel(text: string): LogLevelName {
  const lower = text.toLowerCase() === "warn" ? "warning" : text.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(lower)) {
    throw new RangeError(`Unknown log level "${text}": use one of ${LOG_LEVELS.join(", ")}`);
  }
  return lower as LogLevelName;
}
