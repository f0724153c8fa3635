import {
  checkpointKey,
  commitKey,
  multipartCheckpointKey,
  parseLogPath,
} from "../../src/delta/log_path.ts";
import { assertEquals, assertThrows } from "../_helpers/assert.ts";

Deno.test("commitKey() pads the version to twenty digits", () => {
  assertEquals(commitKey(7), "_delta_log/00000000000000000007.json");
  assertEquals(checkpointKey(100), "_delta_log/00000000000000000100.checkpoint.parquet");
  assertEquals(
    multipartCheckpointKey(10, 2, 3),
    "_delta_log/00000000000000000010.checkpoint.0000000002.0000000003.parquet",
  );
});

Deno.test("commitKey() refuses negative and fractional versions", () => {
  assertThrows(() => commitKey(-1), "Invalid table version");
  assertThrows(() => commitKey(1.5), "Invalid table version");
});

Deno.test("parseLogPath() recognises every log file kind", () => {
  assertEquals(parseLogPath("_delta_log/00000000000000000003.json"), {
    key: "_delta_log/00000000000000000003.json",
    version: 3,
    type: "commit",
  });
  assertEquals(parseLogPath(checkpointKey(4))?.type, "checkpoint");
  const multi = parseLogPath(multipartCheckpointKey(5, 1, 2));
  assertEquals([multi?.type, multi?.version, multi?.part, multi?.parts], [
    "multipart-checkpoint",
    5,
    1,
    2,
  ]);
  assertEquals(
    parseLogPath(
      "_delta_log/00000000000000000006.checkpoint.f5ee283b-37c7-46af-b64c-8f77c6a5c43a.json",
    )?.type,
    "uuid-checkpoint",
  );
  assertEquals(parseLogPath("_delta_log/00000000000000000006.crc")?.type, "crc");
  const compacted = parseLogPath(
    "_delta_log/00000000000000000004.00000000000000000006.compacted.json",
  );
  assertEquals([compacted?.type, compacted?.version, compacted?.endVersion], [
    "compacted",
    4,
    6,
  ]);
});

Deno.test("parseLogPath() ignores files that are not log files", () => {
  assertEquals(parseLogPath("_delta_log/_last_checkpoint"), undefined);
  assertEquals(parseLogPath("_delta_log/0000000000000000003.json"), undefined);
  assertEquals(parseLogPath("_delta_log/_sidecars/00000000000000000006.json"), undefined);
  assertEquals(parseLogPath("part-00000.parquet"), undefined);
});
