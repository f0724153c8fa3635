/**
 * Coercion of text into date, timestamp and timestamp_ntz values, in the
 * proleptic Gregorian calendar.
 *
 * - date: `YYYY-MM-DD` (years 0001 to 9999), a real calendar day (2023-02-29
 *   is refused), held as days since 1970-01-01.
 * - timestamp: `YYYY-MM-DD` then `T`, `t` or a space, then `HH:MM[:SS[.f]]`
 *   and a zone (`Z` or `±HH:MM`, `±HHMM`, `±HH`), held as microseconds since
 *   the epoch in UTC. The zone is required.
 * - timestamp_ntz: the same without a zone, held as the microseconds that the
 *   wall-clock reading would have in UTC. A zone is refused.
 *
 * A fraction may have 1 to 9 digits (`.` or `,`); digits past the sixth are
 * truncated, as Delta keeps microseconds. Hours run 00-23, seconds 00-59.
 *
 * The `read*` functions are pure, allocate nothing on success within years
 * 1685-2254 (beyond that the microseconds exceed 2^53 and come back as a
 * bigint), and return `undefined` for text that does not fit.
 */

import { cannotRead, type ValueLocation } from "./coerce.ts";
import { readDate, readDateTime } from "../columnar/text_values.ts";

export { daysFromCivil, readDate, readDateTime, type ZoneRule } from "../columnar/text_values.ts";

/** Reads a date; throws `InputError` if it is not a valid `YYYY-MM-DD`. */
export function coerceDate(text: string, where?: ValueLocation): number {
  const value = readDate(text);
  if (value === undefined) throw cannotRead(text, "date", where);
  return value;
}

/** Reads a zoned timestamp as microseconds since the epoch; throws `InputError`. */
export function coerceTimestamp(text: string, where?: ValueLocation): bigint {
  const value = readDateTime(text, "required");
  if (value === undefined) throw cannotRead(text, "timestamp", where);
  return BigInt(value);
}

/** Reads a timestamp without zone as microseconds since the epoch; throws `InputError`. */
export function coerceTimestampNtz(text: string, where?: ValueLocation): bigint {
  const value = readDateTime(text, "forbidden");
  if (value === undefined) throw cannotRead(text, "timestamp_ntz", where);
  return BigInt(value);
}
