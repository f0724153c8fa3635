/**
 * The pure pieces of the S3 wire format: outcome classification, the small
 * XML parser, error documents, listed-key decoding and error messages.
 */

import { parseErrorDocument } from "../../src/storage/s3/client.ts";
import { describeFailure } from "../../src/storage/s3/errors.ts";
import { classifyFailure, classifyResponse } from "../../src/storage/s3/outcome.ts";
import { decodeListedKey } from "../../src/storage/s3/s3_store.ts";
import { children, childText, escapeXml, isXmlSafe, parseXml } from "../../src/storage/s3/xml.ts";
import { assert, assertEquals, assertThrows } from "../_helpers/assert.ts";

Deno.test("classifyResponse maps statuses and codes to outcomes", () => {
  assertEquals(classifyResponse(200), { kind: "ok" });
  assertEquals(classifyResponse(206), { kind: "ok" });
  assertEquals(classifyResponse(204), { kind: "ok" });
  assertEquals(classifyResponse(404, "NoSuchKey"), { kind: "not-found" });
  assertEquals(classifyResponse(404), { kind: "not-found" });
  assertEquals(classifyResponse(404, "NoSuchBucket"), { kind: "fatal" });
  assertEquals(classifyResponse(404, "NoSuchUpload"), { kind: "fatal" });
  assertEquals(classifyResponse(412, "PreconditionFailed"), { kind: "precondition-failed" });
  assertEquals(classifyResponse(409, "ConditionalRequestConflict"), { kind: "conflict" });
  assertEquals(classifyResponse(409, "BucketAlreadyExists"), { kind: "fatal" });
  assertEquals(classifyResponse(416, "InvalidRange"), { kind: "range-not-satisfiable" });
  assertEquals(classifyResponse(503, "SlowDown"), {
    kind: "retryable",
    throttled: true,
    mayHaveApplied: true,
  });
  assertEquals(classifyResponse(429), {
    kind: "retryable",
    throttled: true,
    mayHaveApplied: false,
  });
  for (const status of [500, 502, 504]) {
    assertEquals(classifyResponse(status).kind, "retryable", String(status));
  }
  assertEquals(classifyResponse(400, "RequestTimeout").kind, "retryable");
  assertEquals(classifyResponse(501, "NotImplemented"), { kind: "fatal" });
  for (
    const [status, code] of [
      [400, "InvalidArgument"],
      [403, "AccessDenied"],
      [403, "SignatureDoesNotMatch"],
      [405, undefined],
      [411, "MissingContentLength"],
    ] as const
  ) {
    assertEquals(classifyResponse(status, code), { kind: "fatal" }, `${status} ${code}`);
  }
  // CompleteMultipartUpload can fail with 200 and an error document.
  assertEquals(classifyResponse(200, "InternalError").kind, "retryable");
  assertEquals(classifyResponse(200, "InvalidPart"), { kind: "fatal" });
});

Deno.test("classifyFailure retries network failures and timeouts but not aborts", () => {
  assertEquals(classifyFailure(new TypeError("error sending request")).kind, "retryable");
  assertEquals(
    classifyFailure(new DOMException("No response within 10 ms", "TimeoutError")),
    { kind: "retryable", throttled: false, mayHaveApplied: true },
  );
  assertEquals(classifyFailure(new DOMException("aborted", "AbortError")), { kind: "fatal" });
  assertEquals(classifyFailure(new Deno.errors.ConnectionReset("reset")).kind, "retryable");
  assertEquals(classifyFailure(new RangeError("bug")), { kind: "fatal" });
  assertEquals(classifyFailure("a string"), { kind: "fatal" });
});

Deno.test("parseXml reads S3 listings with entities, CDATA, namespaces and declarations", () => {
  const root = parseXml(
    `<?xml version="1.0" encoding="UTF-8"?>\n<!-- comment -->` +
      `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
      `<Name>b</Name><Contents><Key>a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x1F600;</Key>` +
      `<Size>12</Size></Contents><Contents><Key><![CDATA[x<y>&z]]></Key><Empty/></Contents>` +
      `<s3:Prefixed xmlns:s3="urn:x">p</s3:Prefixed></ListBucketResult>\n`,
  );
  assertEquals(root.name, "ListBucketResult");
  const contents = children(root, "Contents");
  assertEquals(contents.length, 2);
  assertEquals(childText(contents[0]!, "Key"), `a&b <c> "d" 'e' é😀`);
  assertEquals(childText(contents[1]!, "Key"), "x<y>&z");
  assertEquals(childText(contents[1]!, "Empty"), "");
  assertEquals(childText(root, "Prefixed"), "p");
});

Deno.test("parseXml refuses malformed documents", () => {
  assertThrows(() => parseXml("<a><b></a>"), "expected </b>");
  assertThrows(() => parseXml("<a>"), "unclosed element <a>");
  assertThrows(() => parseXml("<a></a><b></b>"), "a second root element");
  assertThrows(() => parseXml("<a>&unknown;</a>"), "unknown entity");
  assertThrows(() => parseXml("<a>fish & chips</a>"), 'a bare "&"');
  assertThrows(() => parseXml("text<a/>"), "text outside the root");
  assertThrows(() => parseXml("<!DOCTYPE x><a/>"), "document type");
  assertThrows(() => parseXml(""), "no root element");
});

Deno.test("escapeXml round-trips through parseXml, and isXmlSafe spots control characters", () => {
  const text = `a&b<c>"d"'e' ሴ`;
  assertEquals(childText(parseXml(`<r><k>${escapeXml(text)}</k></r>`), "k"), text);
  assert(isXmlSafe("tab\tand newline\n ok ሴ"));
  assert(!isXmlSafe("bell\u0007"));
  assert(!isXmlSafe("lone \ud800 surrogate"));
});

Deno.test("parseErrorDocument reads code, message and request id, and ignores non-XML", () => {
  const body = new TextEncoder().encode(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code>` +
      `<Message>The specified key does not exist.</Message><RequestId>R1</RequestId></Error>`,
  );
  assertEquals(parseErrorDocument(body), {
    code: "NoSuchKey",
    message: "The specified key does not exist.",
    requestId: "R1",
  });
  assertEquals(parseErrorDocument(new TextEncoder().encode("<html>Bad gateway</html>")), undefined);
  assertEquals(parseErrorDocument(new TextEncoder().encode("not xml at all")), undefined);
});

Deno.test("decodeListedKey undoes S3's URL encoding, where + is a space", () => {
  assertEquals(decodeListedKey("a+b%2Bc%20d/%E1%88%B4"), "a b+c d/ሴ");
  assertEquals(decodeListedKey("100%25"), "100%");
});

Deno.test("describeFailure gives advice per error code", () => {
  const context = {
    target: "s3://lab/t/k",
    bucket: "lab",
    endpoint: "https://s3.eu-west-1.amazonaws.com",
    accessKeyId: "AKIA1",
    credentialSource: "environment",
  };
  const base = { operation: "GetObject", key: "k" };
  assertEquals(
    describeFailure({ ...base, status: 404, code: "NoSuchBucket", requestId: "R9" }, context),
    "GetObject s3://lab/t/k failed: 404 NoSuchBucket (request id R9): the bucket lab does not " +
      "exist at https://s3.eu-west-1.amazonaws.com: create it, or check the table URI, " +
      "AWS_REGION and AWS_ENDPOINT_URL",
  );
  assert(
    describeFailure({ ...base, status: 403, code: "InvalidAccessKeyId" }, context).includes(
      "does not know the access key ID AKIA1 (from environment)",
    ),
  );
  assert(
    describeFailure({ ...base, status: 403, code: "AccessDenied" }, context).includes(
      "grant s3:GetObject",
    ),
  );
  const skew = describeFailure({ ...base, status: 403, code: "RequestTimeTooSkewed" }, {
    ...context,
    serverDate: new Date("2025-01-01T12:00:00Z"),
    localDate: new Date("2025-01-01T12:30:00Z"),
  });
  assert(skew.includes("30 min ahead of the server's"), skew);
  const retried = describeFailure(
    { ...base, status: 503, code: "SlowDown", attempts: 9 },
    { ...context, elapsedMs: 12_300 },
  );
  assert(retried.includes("after 9 attempts over 12.3 s"), retried);
});
