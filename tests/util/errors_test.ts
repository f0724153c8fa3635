import { errorChain, formatError } from "../../src/util/errors.ts";
import { describeKafkaError } from "../../src/sources/kafka.ts";
import { assertEquals } from "../_helpers/assert.ts";

Deno.test("errorChain() leaves out a cause that an earlier message already quotes", () => {
  const os = new Error("No such file or directory (os error 2): open 'a.csv'");
  const quoted = new Error(`Cannot open a.csv: ${os.message}: check the path`, { cause: os });
  assertEquals(errorChain(quoted), [quoted.message]);
  const plain = new Error("Cannot read the schema file s.json", { cause: os });
  assertEquals(formatError(plain), `${plain.message}\n  Caused by: ${os.message}`);
});

Deno.test("describeKafkaError() says each nested error once, without the library's repeats", () => {
  const refused = () =>
    new AggregateError(
      [
        new Error("Connection to 127.0.0.1:1 failed.", {
          cause: new Error("connect ECONNREFUSED"),
        }),
      ],
      "Cannot connect to any broker.",
    );
  const coordinator = () =>
    new AggregateError([refused(), refused()], "findGroupCoordinator failed 2 times.");
  const join = new AggregateError(
    [coordinator(), coordinator()],
    "joinGroup failed 2 times. findGroupCoordinator failed 2 times. findGroupCoordinator failed 2 times.",
  );
  const text = describeKafkaError(join);
  assertEquals(
    text,
    "joinGroup failed 2 times: findGroupCoordinator failed 2 times: Cannot connect to any broker: " +
      "Connection to 127.0.0.1:1 failed: connect ECONNREFUSED",
  );
  const wrapped = new Error(`Cannot join Kafka consumer group g: ${text}`, { cause: join });
  assertEquals(errorChain(wrapped), [wrapped.message]);
});
