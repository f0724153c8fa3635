/**
 * URL user information never reaches text that people or logs see.
 */

import { redactUrlValue, redactUserinfo } from "../../src/util/redact.ts";
import { assertEquals } from "../_helpers/assert.ts";

Deno.test("redactUserinfo hides the user name and password of every URL in a text", () => {
  assertEquals(
    redactUserinfo(`Invalid S3 endpoint "http://u:SEKRET@minio.lab:9000/x" and https://a@b`),
    `Invalid S3 endpoint "http://<redacted>@minio.lab:9000/x" and https://<redacted>@b`,
  );
  // A `/` or `?` in a password ends the authority early, so the URL does not
  // parse; the password is still hidden up to the last `@`.
  assertEquals(
    redactUserinfo("Invalid URL: 'http://u:pa/ss?w@h:1'"),
    "Invalid URL: 'http://<redacted>@h:1'",
  );
});

Deno.test("redactUserinfo leaves text without user information alone", () => {
  const text = "s3://bucket/dir@2026/_delta_log/0.json and http://127.0.0.1:9000/b and a@b.c";
  assertEquals(redactUserinfo(text), text);
  assertEquals(redactUserinfo("s3://user:pw@bucket/x"), "s3://<redacted>@bucket/x");
});

Deno.test("redactUrlValue hides user information of a value that is no URL at all", () => {
  assertEquals(redactUrlValue("http://u:SEK RET@exa mple.com"), "http://<redacted>@exa mple.com");
  assertEquals(redactUrlValue("u:SEKRET@host:9000"), "<redacted>@host:9000");
  assertEquals(redactUrlValue("http://host:9000"), "http://host:9000");
});
