/**
 * Table features: which tables neuralake reads, which writes it makes, and
 * the README's feature table, which must say exactly what the code does.
 */

import type { Metadata, Protocol } from "../../src/delta/actions.ts";
import {
  checkCanRead,
  checkCanWrite,
  protocolProblem,
  TABLE_FEATURES,
  UnsupportedFeatureError,
  type WriteCheckOptions,
  type WriteKind,
} from "../../src/delta/protocol.ts";
import type { StructField, StructType } from "../../src/delta/schema.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

function metadata(configuration: Record<string, string> = {}): Metadata {
  return {
    id: "t",
    format: { provider: "parquet", options: {} },
    schemaString: "{}",
    partitionColumns: [],
    configuration,
  };
}

function schema(fieldMetadata: Record<string, unknown> = {}): StructType {
  const field = { name: "n", type: "long", nullable: true, metadata: fieldMetadata };
  return { type: "struct", fields: [field as StructField] };
}

function v7(writer: string[], reader: string[] = []): Protocol {
  return reader.length
    ? { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: reader, writerFeatures: writer }
    : { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: writer };
}

/** The feature a write is refused for, or "ok". */
function verdict(
  protocol: Protocol,
  meta: Metadata,
  s: StructType,
  kind: WriteKind,
  enforcesConstraints = false,
): string {
  try {
    checkCanWrite(protocol, meta, s, { kind, enforcesConstraints });
    return "ok";
  } catch (error) {
    if (error instanceof UnsupportedFeatureError) return error.feature;
    throw error;
  }
}

function verdictWith(
  protocol: Protocol,
  meta: Metadata,
  s: StructType,
  options: WriteCheckOptions,
): string {
  try {
    checkCanWrite(protocol, meta, s, options);
    return "ok";
  } catch (error) {
    if (error instanceof UnsupportedFeatureError) return error.feature;
    throw error;
  }
}

const KINDS: WriteKind[] = ["append", "overwrite", "rewrite", "vacuum"];
const all = (p: Protocol, m: Metadata, s: StructType, enforces = false) =>
  KINDS.map((k) => verdict(p, m, s, k, enforces));

Deno.test("the README's feature table lists every feature exactly as the code treats it", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Delta table features"));
  const rows = new Map<string, string[]>();
  for (const line of section.split("\n")) {
    const m = /^\|\s*`([^`]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (m) rows.set(m[1]!, m[2]!.split("|").map((c) => c.trim()));
  }
  const write = { yes: "write", refuse: "refuse while in use", "refuse-always": "refuse" };
  assertEquals([...rows.keys()].sort(), TABLE_FEATURES.map((f) => f.name).sort());
  for (const f of TABLE_FEATURES) {
    assertEquals(
      rows.get(f.name)!.slice(0, 4),
      [f.kind, f.read === "yes" ? "read" : "refuse", write[f.write], f.note],
      f.name,
    );
  }
});

Deno.test("every reader feature marked read is read, and the others are refused by name", () => {
  for (const f of TABLE_FEATURES.filter((f) => f.kind === "reader-writer")) {
    const p = v7([f.name], [f.name]);
    let refused: string | undefined;
    try {
      // A column mapping mode puts columnMapping in use; without one it is no obstacle.
      checkCanRead(
        p,
        metadata(f.name === "columnMapping" ? { "delta.columnMapping.mode": "name" } : {}),
      );
    } catch (error) {
      refused = (error as UnsupportedFeatureError).feature;
    }
    assertEquals(refused, f.read === "yes" ? undefined : f.name, f.name);
  }
  // Writer-only features never stop a reader.
  for (const f of TABLE_FEATURES.filter((f) => f.kind === "writer")) {
    checkCanRead(v7([f.name]), metadata());
  }
});

Deno.test("an unknown feature is refused for writing, and for reading when a reader feature", () => {
  assertEquals(all(v7(["futureThing"]), metadata(), schema()), Array(4).fill("futureThing"));
  let feature: string | undefined;
  try {
    checkCanRead(v7(["futureThing"], ["futureThing"]), metadata());
  } catch (error) {
    feature = (error as UnsupportedFeatureError).feature;
  }
  assertEquals(feature, "futureThing");
});

Deno.test("a variant table is read and compacted; rows are never added; vacuum and checkpoints run", () => {
  for (const name of ["variantType", "variantType-preview"]) {
    const p = v7([name], [name]);
    checkCanRead(p, metadata());
    assertEquals(all(p, metadata(), schema()), [name, name, "ok", "ok"], name);
    assertEquals(verdict(p, metadata(), schema(), "checkpoint"), "ok", name);
  }
  // Shredded variants are rebuilt on read; compaction writes them unshredded;
  // appends are refused by name.
  for (const name of ["variantShredding", "variantShredding-preview"]) {
    const p = v7([name, "variantType"], [name, "variantType"]);
    checkCanRead(p, metadata());
    assertEquals(all(p, metadata(), schema()), [name, name, "ok", "ok"], name);
    assertEquals(verdict(p, metadata(), schema(), "checkpoint"), "ok", name);
  }
});

Deno.test("a table that both enables and suspends row tracking refuses every commit by name, as Spark does", () => {
  const p = v7(["rowTracking", "domainMetadata"]);
  const both = metadata({
    "delta.enableRowTracking": "true",
    "delta.rowTrackingSuspended": "true",
  });
  const verdicts = [...KINDS, "checkpoint" as const].map((kind) =>
    verdictWith(p, both, schema(), { kind, assignsRowIds: true, enforcesConstraints: true })
  );
  assertEquals(verdicts, ["rowTracking", "rowTracking", "rowTracking", "ok", "ok"]);
  const error = assertThrows(() => checkCanWrite(p, both, schema(), { assignsRowIds: true }));
  assert(error.message.includes("delta.rowTrackingSuspended=true"), error.message);
  // Suspended alone: nothing to assign, every write runs.
  const suspended = metadata({
    "delta.enableRowTracking": "false",
    "delta.rowTrackingSuspended": "true",
  });
  assertEquals(all(p, suspended, schema()), ["ok", "ok", "ok", "ok"]);
});

Deno.test("appendOnly refuses only overwrites, and only when delta.appendOnly is true", () => {
  const p = v7(["appendOnly"]);
  assertEquals(all(p, metadata({ "delta.appendOnly": "true" }), schema()), [
    "ok",
    "appendOnly",
    "ok",
    "ok",
  ]);
  assertEquals(all(p, metadata(), schema()), ["ok", "ok", "ok", "ok"]);
  // Legacy writer version 2 implies the feature.
  assertEquals(
    verdict(
      { minReaderVersion: 1, minWriterVersion: 2 },
      metadata({ "delta.appendOnly": "true" }),
      schema(),
      "overwrite",
    ),
    "appendOnly",
  );
});

Deno.test("invariants and CHECK constraints need a writer that checks rows", () => {
  const inv = schema({ "delta.invariants": '{"expression":{"expression":"n > 0"}}' });
  assertEquals(all(v7(["invariants"]), metadata(), inv), [
    "invariants",
    "invariants",
    "ok",
    "ok",
  ]);
  assertEquals(all(v7(["invariants"]), metadata(), inv, true), ["ok", "ok", "ok", "ok"]);
  const m = metadata({ "delta.constraints.positive": "n > 0" });
  assertEquals(all(v7(["checkConstraints"]), m, schema()), [
    "checkConstraints",
    "checkConstraints",
    "ok",
    "ok",
  ]);
  assertEquals(all(v7(["checkConstraints"]), m, schema(), true), ["ok", "ok", "ok", "ok"]);
});

Deno.test("generated, identity and default columns refuse adding rows but allow compaction", () => {
  for (
    const [feature, meta] of [
      ["generatedColumns", { "delta.generationExpression": "n + 1" }],
      ["identityColumns", { "delta.identity.start": 1, "delta.identity.step": 1 }],
      ["allowColumnDefaults", { CURRENT_DEFAULT: "0" }],
    ] as const
  ) {
    assertEquals(all(v7([feature]), metadata(), schema(meta)), [feature, feature, "ok", "ok"]);
    assertEquals(all(v7([feature]), metadata(), schema()), ["ok", "ok", "ok", "ok"], feature);
  }
});

Deno.test("rowTracking, and inCommitTimestamp for writers without it, refuse commits; vacuum runs", () => {
  assertEquals(all(v7(["rowTracking", "domainMetadata"]), metadata(), schema()), [
    "rowTracking",
    "rowTracking",
    "rowTracking",
    "ok",
  ]);
  assertEquals(
    all(
      v7(["rowTracking", "domainMetadata"]),
      metadata({ "delta.rowTrackingSuspended": "true" }),
      schema(),
    ),
    ["ok", "ok", "ok", "ok"],
  );
  assertEquals(
    all(
      v7(["inCommitTimestamp"]),
      metadata({ "delta.enableInCommitTimestamps": "true" }),
      schema(),
    ),
    ["inCommitTimestamp", "inCommitTimestamp", "inCommitTimestamp", "ok"],
  );
  assertEquals(all(v7(["inCommitTimestamp"]), metadata(), schema()), ["ok", "ok", "ok", "ok"]);
  // Writers that assign row ids may add rows, and a compaction that keeps
  // them (ops/compaction.ts) may rewrite.
  assertEquals(
    KINDS.map((kind) =>
      verdictWith(v7(["rowTracking", "domainMetadata"]), metadata(), schema(), {
        kind,
        assignsRowIds: true,
      })
    ),
    ["ok", "ok", "ok", "ok"],
  );
  // Writers whose commits carry the timestamp may write.
  const ict = metadata({ "delta.enableInCommitTimestamps": "true" });
  for (const kind of KINDS) {
    checkCanWrite(v7(["inCommitTimestamp"]), ict, schema(), {
      kind,
      writesInCommitTimestamps: true,
    });
  }
});

Deno.test("a Spark 3.5 default table (DVs, domain metadata, ntz, vacuum check) takes every write", () => {
  const p = v7(
    [
      "appendOnly",
      "invariants",
      "deletionVectors",
      "domainMetadata",
      "timestampNtz",
      "vacuumProtocolCheck",
      "changeDataFeed",
      "clustering",
    ],
    ["deletionVectors", "timestampNtz", "vacuumProtocolCheck"],
  );
  assertEquals(all(p, metadata({ "delta.enableDeletionVectors": "true" }), schema()), [
    "ok",
    "ok",
    "ok",
    "ok",
  ]);
  assert(TABLE_FEATURES.every((f) => f.note.length > 0));
});

Deno.test("checkpointProtection binds only metadata cleanup: appends, overwrites, compaction and vacuum go ahead", () => {
  const meta = metadata({ "delta.requireCheckpointProtectionBeforeVersion": "5" });
  assertEquals(all(v7(["checkpointProtection", "appendOnly"]), meta, schema()), [
    "ok",
    "ok",
    "ok",
    "ok",
  ]);
  // A feature neuralake does not know still stops every write, vacuum included.
  assertEquals(all(v7(["checkpointProtection", "madeUpFeature"]), meta, schema()), [
    "madeUpFeature",
    "madeUpFeature",
    "madeUpFeature",
    "madeUpFeature",
  ]);
});

Deno.test("protocolProblem() accepts the protocols PROTOCOL.md and delta-kernel-rs accept", () => {
  const valid: Protocol[] = [
    { minReaderVersion: 1, minWriterVersion: 1 },
    { minReaderVersion: 1, minWriterVersion: 2 },
    { minReaderVersion: 2, minWriterVersion: 5 },
    { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: [] },
    { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ["appendOnly", "rowTracking"] },
    { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: [], writerFeatures: [] },
    {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ["deletionVectors"],
      writerFeatures: ["deletionVectors", "appendOnly"],
    },
    // Reader version 2 implies column mapping, so a writer-7 table may list it for writers only.
    { minReaderVersion: 2, minWriterVersion: 7, writerFeatures: ["columnMapping"] },
    // delta-spark once wrote this shape; kernel reads it, the mode comes from writerFeatures.
    {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: [],
      writerFeatures: ["columnMapping"],
    },
    // Unknown features: as reader features they must be writer features too, as writer ones not.
    {
      minReaderVersion: 3,
      minWriterVersion: 7,
      readerFeatures: ["someFutureFeature"],
      writerFeatures: ["someFutureFeature", "otherFutureFeature"],
    },
    // JSON nulls are absent lists.
    {
      minReaderVersion: 1,
      minWriterVersion: 2,
      readerFeatures: null,
      writerFeatures: null,
    } as unknown as Protocol,
    // Versions neuralake does not implement are refused elsewhere, as unsupported.
    { minReaderVersion: 4, minWriterVersion: 8 },
  ];
  for (const p of valid) assertEquals(protocolProblem(p), undefined, JSON.stringify(p));
});

Deno.test("protocolProblem() names what is wrong with an invalid protocol", () => {
  const cases: [Protocol, string][] = [
    [
      { minReaderVersion: 0, minWriterVersion: 2 },
      "minReaderVersion must be an integer of at least 1, got 0",
    ],
    [
      { minReaderVersion: 1, minWriterVersion: -1 },
      "minWriterVersion must be an integer of at least 1, got -1",
    ],
    [{ minReaderVersion: 1.5, minWriterVersion: 2 }, "minReaderVersion must be an integer"],
    [
      { minReaderVersion: 3, minWriterVersion: 7, writerFeatures: [] },
      "readerFeatures must be present when minReaderVersion is 3",
    ],
    [
      { minReaderVersion: 1, minWriterVersion: 7 },
      "writerFeatures must be present when minWriterVersion is 7",
    ],
    [
      { minReaderVersion: 2, minWriterVersion: 5, readerFeatures: ["columnMapping"] },
      "readerFeatures must be absent when minReaderVersion is 2",
    ],
    [
      { minReaderVersion: 1, minWriterVersion: 2, readerFeatures: [] },
      "readerFeatures must be absent when minReaderVersion is 1",
    ],
    [
      { minReaderVersion: 1, minWriterVersion: 4, writerFeatures: ["changeDataFeed"] },
      "writerFeatures must be absent when minWriterVersion is 4",
    ],
    [
      { minReaderVersion: 3, minWriterVersion: 5, readerFeatures: ["deletionVectors"] },
      "readerFeatures need minWriterVersion 7",
    ],
    [
      {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ["deletionVectors"],
        writerFeatures: [],
      },
      'reader feature "deletionVectors" must also be listed in writerFeatures',
    ],
    [
      {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ["someFutureFeature"],
        writerFeatures: [],
      },
      'reader feature "someFutureFeature" must also be listed in writerFeatures',
    ],
    [
      {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: ["appendOnly"],
        writerFeatures: ["appendOnly"],
      },
      'reader feature "appendOnly" is a writer-only feature',
    ],
    [
      {
        minReaderVersion: 3,
        minWriterVersion: 7,
        readerFeatures: [],
        writerFeatures: ["deletionVectors"],
      },
      '"deletionVectors" is a reader-writer feature listed in writerFeatures but not in readerFeatures',
    ],
    [
      { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ["columnMapping"] },
      '"columnMapping" is a reader-writer feature listed in writerFeatures, but minReaderVersion is 1',
    ],
    [
      { minReaderVersion: 2, minWriterVersion: 7, writerFeatures: ["v2Checkpoint"] },
      '"v2Checkpoint" is a reader-writer feature listed in writerFeatures, but minReaderVersion is 2',
    ],
    [
      {
        minReaderVersion: 1,
        minWriterVersion: 7,
        writerFeatures: "appendOnly",
      } as unknown as Protocol,
      'writerFeatures must be a list of feature names, got "appendOnly"',
    ],
  ];
  for (const [p, want] of cases) {
    const problem = protocolProblem(p);
    assert(problem?.includes(want), `${JSON.stringify(p)}: got ${problem}, want ${want}`);
  }
});
