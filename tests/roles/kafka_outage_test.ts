/** The ingest role's view of an unreachable Kafka broker, with an injected clock. */

import {
  brokerTimeoutFor,
  BrokerUnreachableError,
  DEFAULT_BROKER_TIMEOUT_MS,
  type OutageReport,
  OutageWatch,
} from "../../src/roles/kafka_outage.ts";
import { assert, assertEquals } from "../_helpers/assert.ts";

const down = (since: number) => ({ since, error: "Connection to 127.0.0.1:9 failed." });

Deno.test("OutageWatch: a failed poll is not quiet time; quiet time counts from the broker's first answer", () => {
  const watch = new OutageWatch({ report: () => {} });
  assertEquals(watch.observe(undefined, 1_000), undefined);
  assertEquals(watch.quietFor(1_000), Infinity);
  watch.observe(down(2_000), 2_000);
  watch.observe(down(2_000), 9_000);
  assertEquals(watch.quietFor(9_000), 0);
  watch.observe(undefined, 9_500);
  assertEquals(watch.outage, undefined);
  assertEquals(watch.quietFor(12_000), 2_500);
});

Deno.test("OutageWatch: reports an outage when it starts, at most every 5 s, and when it ends", () => {
  const reports: OutageReport[] = [];
  const watch = new OutageWatch({ report: (r) => reports.push(r) });
  for (let t = 10_000; t <= 21_000; t += 500) watch.observe(down(10_000), t);
  watch.observe(undefined, 22_000);
  assertEquals(reports.map((r) => [r.kind, r.downMs]), [
    ["down", 0],
    ["down", 5_000],
    ["down", 10_000],
    ["back", 12_000],
  ]);
  assertEquals(reports[0], {
    kind: "down",
    downMs: 0,
    error: "Connection to 127.0.0.1:9 failed.",
    timeoutMs: undefined,
  });
});

Deno.test("OutageWatch: gives up once the outage lasts the timeout, not before, and never without one", () => {
  const watch = new OutageWatch({ timeoutMs: 8_000, report: () => {} });
  assertEquals(watch.observe(down(0), 7_999), undefined);
  const error = watch.observe(down(0), 8_000);
  assert(error instanceof BrokerUnreachableError);
  assert(error.message.startsWith("Kafka has been unreachable for 8 s, past --broker-timeout 8 s"));
  assert(error.message.includes("Connection to 127.0.0.1:9 failed."), error.message);
  // A broker that answered in between starts a new outage.
  const again = new OutageWatch({ timeoutMs: 8_000, report: () => {} });
  again.observe(down(0), 5_000);
  again.observe(undefined, 6_000);
  assertEquals(again.observe(down(7_000), 12_000), undefined);
  const patient = new OutageWatch({ report: () => {} });
  assertEquals(patient.observe(down(0), 3_600_000), undefined);
});

Deno.test("brokerTimeoutFor: the one given, else 5 minutes with --until-idle, else none", () => {
  assertEquals(brokerTimeoutFor(5_000, 3_000), 5_000);
  assertEquals(brokerTimeoutFor(5_000, undefined), 5_000);
  assertEquals(brokerTimeoutFor(undefined, 3_000), DEFAULT_BROKER_TIMEOUT_MS);
  // The stream's config says 0 for unset.
  assertEquals(brokerTimeoutFor(0, 3_000), 5 * 60_000);
  assertEquals(brokerTimeoutFor(0, 0), undefined);
  assertEquals(brokerTimeoutFor(undefined, undefined), undefined);
});
