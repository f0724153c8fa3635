import { checkNewSchema, checkSchemaJson } from "../../src/delta/schema_check.ts";
import { parseSchemaJson, type StructType } from "../../src/delta/schema.ts";
import { createTableActions } from "../../src/ops/create.ts";
import { assertThrows } from "../_helpers/assert.ts";

/** Parses and checks a schema the way `create` does. */
function check(value: unknown): StructType {
  checkSchemaJson(value, "s.json");
  const schema = parseSchemaJson(value, "s.json");
  checkNewSchema(schema, "s.json");
  return schema;
}

const field = (name: string, type: unknown, extra: Record<string, unknown> = {}) => ({
  name,
  type,
  nullable: true,
  metadata: {},
  ...extra,
});

Deno.test("checkNewSchema() names the column path and the bad type", () => {
  assertThrows(() => check([field("a", "weird")]), 'column "a" has unknown type "weird"');
  assertThrows(
    () => check([field("s", { type: "struct", fields: [field("b", "int")] })]),
    'column "s.b" has unknown type "int": did you mean "integer"?',
  );
  assertThrows(
    () => check([field("l", { type: "array", elementType: "bigint", containsNull: true })]),
    'column "l.element" has unknown type "bigint": did you mean "long"?',
  );
  assertThrows(
    () =>
      check([
        field("m", { type: "map", keyType: "string", valueType: "weird", valueContainsNull: true }),
      ]),
    'column "m.value" has unknown type "weird"',
  );
  assertThrows(() => check([field("a", "String")]), 'type names are lower case, "string"');
  assertThrows(() => check([field("a", "variant")]), "cannot create a table with");
});

Deno.test("checkNewSchema() bounds decimal precision and scale", () => {
  for (const type of ["decimal(0,0)", "decimal(39,2)", "decimal(5,6)", "decimal(10)"]) {
    assertThrows(() => check([field("d", type)]), `column "d" has type "${type}"`);
  }
  check([field("d", "decimal(38,38)"), field("e", "decimal(1, 0)")]);
});

Deno.test("checkNewSchema() refuses names equal regardless of case, at every level", () => {
  assertThrows(() => check([field("a", "long"), field("A", "long")]), '"A"');
  assertThrows(
    () =>
      check([field("s", { type: "struct", fields: [field("x", "long"), field("X", "string")] })]),
    'columns "s.x" and "s.X" have the same name',
  );
  assertThrows(
    () =>
      createTableActions({
        schema: {
          type: "struct",
          fields: [
            field("s", { type: "struct", fields: [field("x", "long"), field("X", "long")] }),
          ],
        } as StructType,
      }),
    'columns "s.x" and "s.X"',
  );
});

Deno.test("checkSchemaJson() refuses flags and metadata of the wrong JSON type", () => {
  assertThrows(() => check([field("a", "long", { nullable: "false" })]), '"nullable": "false"');
  assertThrows(() => check([field("a", "long", { metadata: [] })]), '"metadata": []');
  assertThrows(
    () => check([field("a", { type: "array", elementType: "long", containsNull: 0 })]),
    '"containsNull": 0',
  );
  assertThrows(
    () => check([field("a", { type: "map", keyType: "long" })]),
    'column "a" is a map without',
  );
  assertThrows(() => check([field("a", { type: "list" })]), 'unknown type "list"');
  assertThrows(() => check([{ name: "a" }]), 'column "a" has no "type"');
  assertThrows(() => check([]), "at least one column");
  assertThrows(() => check([field("s", { type: "struct", fields: [] })]), "without fields");
});

Deno.test("valid nested types pass, and partition columns must be primitive", () => {
  const schema = check([
    field("id", "long"),
    field("s", { type: "struct", fields: [field("x", "timestamp_ntz"), field("y", "binary")] }),
    field("l", {
      type: "array",
      elementType: { type: "struct", fields: [field("v", "decimal(10,2)")] },
      containsNull: false,
    }),
    field("m", {
      type: "map",
      keyType: "string",
      valueType: { type: "array", elementType: "double", containsNull: true },
      valueContainsNull: true,
    }),
  ]);
  createTableActions({ schema, partitionColumns: ["id"] });
  assertThrows(
    () => createTableActions({ schema, partitionColumns: ["s"] }),
    'Partition column "s" has type struct',
  );
  assertThrows(
    () => createTableActions({ schema, partitionColumns: ["nope"] }),
    'Partition column "nope" is not in the schema',
  );
});
