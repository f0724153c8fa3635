/**
 * Errors of the S3 backend, with messages that tell the user what to do.
 *
 * Invariants:
 * - Callers branch on `S3Error.status` and `S3Error.code`, never on the
 *   message.
 * - No message contains a secret: messages are built from the parsed S3 error
 *   code and message only (never from a raw body, which can echo the
 *   canonical request and with it a session token), and the client passes
 *   every message through `S3Credentials.redact` as a last guard.
 */

/** Codes for failures that happen before any S3 answer arrives. */
export const CLIENT_CODES = {
  /** The connection failed or closed before a complete response. */
  network: "NetworkError",
  /** No complete response within `requestTimeoutMs`. */
  timeout: "RequestTimeoutClient",
  /** A response that is not the S3 XML it should be. */
  badResponse: "MalformedResponse",
  /** A `putIfAbsent` whose outcome could not be determined. */
  ambiguous: "AmbiguousConditionalWrite",
} as const;

/** What went wrong with one S3 request, as callers may branch on it. */
export interface S3ErrorDetails {
  /** HTTP status, or 0 if no response arrived. */
  status: number;
  /** S3's error code (`NoSuchBucket`), or one of `CLIENT_CODES`. */
  code: string;
  /** The `x-amz-request-id` of the failed response, for support cases. */
  requestId?: string | undefined;
  /** The S3 operation, such as `PutObject`. */
  operation: string;
  /** The key relative to the store root, when the request was about one. */
  key?: string | undefined;
  /** The server's own message, if it sent one. */
  serverMessage?: string | undefined;
  /** How many attempts were made. */
  attempts?: number;
}

/**
 * A failed S3 request. The message says what happened and what to do; the
 * fields say it for code.
 */
export class S3Error extends Error {
  /** HTTP status, or 0 if no response arrived. */
  readonly status: number;
  /** S3's error code, or one of `CLIENT_CODES`. */
  readonly code: string;
  /** The `x-amz-request-id` of the failed response. */
  readonly requestId: string | undefined;
  /** The S3 operation, such as `PutObject`. */
  readonly operation: string;
  /** The key relative to the store root, if any. */
  readonly key: string | undefined;
  /** How many attempts were made before giving up. */
  readonly attempts: number;

  constructor(message: string, details: S3ErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.name = "S3Error";
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
    this.operation = details.operation;
    this.key = details.key;
    this.attempts = details.attempts ?? 1;
  }
}

/**
 * Raised by `putIfAbsent` when the server accepts `If-None-Match: *` but does
 * not enforce it. Committing to such a server would let two writers both
 * "win" one table version and silently lose one of the commits.
 */
export class ConditionalWriteNotEnforcedError extends Error {
  /** The store root that was probed. */
  readonly uri: string;

  constructor(uri: string, endpoint: string, options?: ErrorOptions) {
    super(
      `Refusing to commit to ${uri}: the S3 server at ${endpoint} silently overwrote an ` +
        `object on a second PUT with If-None-Match: *, so it does not enforce conditional ` +
        `writes and two writers committing the same version would lose data. Use a server ` +
        `that enforces them (AWS S3, MinIO, or the test server from scripts/s3-server.sh)`,
      options,
    );
    this.name = "ConditionalWriteNotEnforcedError";
    this.uri = uri;
  }
}

/** The context that `describeFailure` needs to give advice. */
export interface FailureContext {
  /** `s3://bucket/prefix/key` or the bucket URI, for the message. */
  target: string;
  bucket: string;
  endpoint: string;
  accessKeyId: string;
  credentialSource: string;
  /** The server's `Date` header, if it sent one. */
  serverDate?: Date | undefined;
  /** The local time when the response arrived. */
  localDate?: Date | undefined;
  requestTimeoutMs?: number;
  elapsedMs?: number;
}

/**
 * Builds the message for a failed request: what failed, the status and code,
 * and advice for the codes that people can act on.
 */
export function describeFailure(details: S3ErrorDetails, context: FailureContext): string {
  const head = `${details.operation} ${context.target} failed`;
  const attempts = details.attempts ?? 1;
  const tried = attempts > 1
    ? ` after ${attempts} attempts over ${formatSeconds(context.elapsedMs ?? 0)}`
    : "";
  const status = details.status === 0 ? details.code : `${details.status} ${details.code}`;
  const id = details.requestId ? ` (request id ${details.requestId})` : "";
  return `${head}${tried}: ${status}${id}: ${advice(details, context)}`;
}

function advice(details: S3ErrorDetails, context: FailureContext): string {
  const server = details.serverMessage ? ` (server says: ${details.serverMessage})` : "";
  switch (details.code) {
    case "InvalidAccessKeyId":
      return `the server does not know the access key ID ${context.accessKeyId} ` +
        `(from ${context.credentialSource}): check AWS_ACCESS_KEY_ID or the profile's ` +
        `aws_access_key_id, and that AWS_ENDPOINT_URL points at the right server`;
    case "SignatureDoesNotMatch":
      return `the request signature does not match: the secret access key for ` +
        `${context.accessKeyId} (from ${context.credentialSource}) is probably wrong; check ` +
        `AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key`;
    case "NoSuchBucket":
      return `the bucket ${context.bucket} does not exist at ${context.endpoint}: create it, ` +
        `or check the table URI, AWS_REGION and AWS_ENDPOINT_URL`;
    case "RequestTimeTooSkewed":
      return clockAdvice(context);
    case "AccessDenied":
    case "AllAccessDisabled":
      return `the credentials for ${context.accessKeyId} (from ${context.credentialSource}) ` +
        `may not do ${details.operation} on ${context.target}: grant s3:${
          actionOf(details.operation)
        } on this bucket and prefix, or use other credentials${server}`;
    case "ExpiredToken":
    case "TokenRefreshRequired":
      return `the session token has expired: refresh the credentials (for example ` +
        `aws sso login, or new values for AWS_SESSION_TOKEN)`;
    case "InvalidToken":
      return `the session token is not valid for ${context.accessKeyId}: check ` +
        `AWS_SESSION_TOKEN, or unset it for long-term credentials`;
    case "PermanentRedirect":
    case "AuthorizationHeaderMalformed":
      return `the bucket ${context.bucket} is probably in another region: set AWS_REGION ` +
        `to the bucket's region${server}`;
    case "NotImplemented":
      return `the server at ${context.endpoint} does not implement this request${server}`;
    case "SlowDown":
      return `the server kept throttling the requests: lower the request rate or retry later`;
    case CLIENT_CODES.timeout:
      return `no complete response within ${context.requestTimeoutMs} ms: check the network ` +
        `and the endpoint ${context.endpoint}, or raise requestTimeoutMs`;
    case CLIENT_CODES.network:
      return `cannot talk to ${context.endpoint}: check that the server runs and that ` +
        `AWS_ENDPOINT_URL is right (see the cause below)`;
    default:
      if (details.status >= 500) {
        return `the server failed${server}: retry later; if it persists, check the server`;
      }
      return details.serverMessage ?? "the server refused the request";
  }
}

function clockAdvice(context: FailureContext): string {
  const { serverDate, localDate } = context;
  if (!serverDate || !localDate || Number.isNaN(serverDate.getTime())) {
    return `this machine's clock differs too much from the server's: synchronise it ` +
      `(for example with NTP)`;
  }
  const skewMs = localDate.getTime() - serverDate.getTime();
  const direction = skewMs > 0 ? "ahead of" : "behind";
  return `this machine's clock is ${formatSeconds(Math.abs(skewMs))} ${direction} the ` +
    `server's (local ${localDate.toISOString()}, server ${serverDate.toISOString()}), and ` +
    `S3 refuses requests more than 15 minutes off: synchronise the clock (for example with NTP)`;
}

/** Maps an operation name to the IAM action it needs. */
function actionOf(operation: string): string {
  switch (operation) {
    case "HeadObject":
      return "GetObject";
    case "ListObjectsV2":
      return "ListBucket";
    case "DeleteObjects":
      return "DeleteObject";
    case "CreateMultipartUpload":
    case "UploadPart":
    case "CompleteMultipartUpload":
      return "PutObject";
    case "AbortMultipartUpload":
      return "AbortMultipartUpload";
    case "ListMultipartUploads":
      return "ListBucketMultipartUploads";
    default:
      return operation;
  }
}

function formatSeconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
