/**
 * S3 credentials, and where they come from: options, environment variables,
 * or a profile in the shared credentials and config files.
 *
 * Invariants:
 * - The secret access key and session token live only in private fields of an
 *   `S3Credentials`. `toJSON`, `toString` and `Deno.inspect` show them as
 *   `<redacted>`, so logging or serialising any object that holds
 *   credentials cannot leak them. Only `reveal()` returns them, for signing.
 * - Lookup is pure: it reads the parsed files it is given, never the disk.
 */

import { redactUserinfo } from "../../util/redact.ts";

/** Plain credential values, as a caller may pass them. */
export interface S3CredentialValues {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string | undefined;
}

/** The text that stands in for a secret wherever one would be shown. */
export const REDACTED = "<redacted>";

const inspectSymbol = Symbol.for("Deno.customInspect");

/** Credentials whose secrets never appear in output. */
export class S3Credentials {
  /** The access key ID; not a secret, and shown in messages. */
  readonly accessKeyId: string;
  /** Where the credentials came from, for messages: `environment`, a profile. */
  readonly source: string;
  readonly #secretAccessKey: string;
  readonly #sessionToken: string | undefined;

  constructor(values: S3CredentialValues, source = "options") {
    if (!values.accessKeyId || !values.secretAccessKey) {
      throw new TypeError(
        `Incomplete S3 credentials from ${source}: both an access key ID and a secret ` +
          `access key are needed`,
      );
    }
    this.accessKeyId = values.accessKeyId;
    this.source = source;
    this.#secretAccessKey = values.secretAccessKey;
    this.#sessionToken = values.sessionToken || undefined;
  }

  /** True if the credentials are temporary (carry a session token). */
  get hasSessionToken(): boolean {
    return this.#sessionToken !== undefined;
  }

  /** Returns the secret values. Only the signer should call this. */
  reveal(): S3CredentialValues {
    return {
      accessKeyId: this.accessKeyId,
      secretAccessKey: this.#secretAccessKey,
      sessionToken: this.#sessionToken,
    };
  }

  /**
   * Replaces every occurrence of the secret and the token in `text`, and the
   * user information of any URL in it.
   */
  redact(text: string): string {
    let out = text.split(this.#secretAccessKey).join(REDACTED);
    if (this.#sessionToken) out = out.split(this.#sessionToken).join(REDACTED);
    return redactUserinfo(out);
  }

  /** A JSON view without secrets. */
  toJSON(): Record<string, string | boolean> {
    return {
      accessKeyId: this.accessKeyId,
      secretAccessKey: REDACTED,
      sessionToken: this.#sessionToken ? REDACTED : false,
      source: this.source,
    };
  }

  /** A one-line view without secrets. */
  toString(): string {
    return `S3Credentials(${this.accessKeyId} from ${this.source})`;
  }

  [inspectSymbol](): string {
    return this.toString();
  }
}

/** The settings of each profile in one file, as `@smithy/core/config` parses them. */
export type AwsProfiles = Record<string, Record<string, string | undefined>>;

/**
 * The shared files, parsed (see `loadAwsSharedFiles`), and their paths for
 * messages. The config file's profiles are keyed by bare name (`[profile
 * lab]` is `lab`), and a nested block's keys carry its name (`s3 =` then
 * `endpoint_url = ...` is `s3.endpoint_url`).
 */
export interface AwsSharedFiles {
  credentials?: AwsProfiles | undefined;
  config?: AwsProfiles | undefined;
  credentialsPath?: string | undefined;
  configPath?: string | undefined;
}

/** Settings of one profile merged from both files (credentials file wins). */
export interface ProfileSettings {
  values: Record<string, string | undefined>;
  /** Whether the profile appears in either file. */
  found: boolean;
}

/**
 * Finds a profile in both files; the credentials file wins key by key, as in
 * the AWS SDK's `parseKnownFiles`.
 */
export function findProfile(files: AwsSharedFiles, name: string): ProfileSettings {
  const fromConfig = Object.hasOwn(files.config ?? {}, name) ? files.config![name] : undefined;
  const fromCredentials = Object.hasOwn(files.credentials ?? {}, name)
    ? files.credentials![name]
    : undefined;
  return {
    values: { ...fromConfig, ...fromCredentials },
    found: fromConfig !== undefined || fromCredentials !== undefined,
  };
}

/** The settings that mean a profile gets its credentials in a way we do not support. */
const INDIRECT_SETTINGS = [
  "role_arn",
  "sso_session",
  "sso_start_url",
  "credential_process",
  "web_identity_token_file",
  "login_session",
];

/**
 * Reads static credentials from a profile. Returns `undefined` if the profile
 * holds none, and throws if it names a credential source that needs an AWS
 * SDK (roles, SSO, processes), with advice to export static ones instead.
 */
export function credentialsFromProfile(
  profile: ProfileSettings,
  name: string,
  files: AwsSharedFiles,
): S3Credentials | undefined {
  const id = profile.values["aws_access_key_id"];
  const secret = profile.values["aws_secret_access_key"];
  const where = `profile ${name} (${files.credentialsPath ?? "credentials file"}, ${
    files.configPath ?? "config file"
  })`;
  if (id && secret) {
    return new S3Credentials(
      {
        accessKeyId: id,
        secretAccessKey: secret,
        sessionToken: profile.values["aws_session_token"],
      },
      where,
    );
  }
  if (id || secret) {
    throw new TypeError(
      `Incomplete S3 credentials in ${where}: it sets only one of aws_access_key_id and ` +
        `aws_secret_access_key`,
    );
  }
  const indirect = INDIRECT_SETTINGS.find((key) => profile.values[key] !== undefined);
  if (indirect) {
    throw new TypeError(
      `Cannot use ${where}: it gets credentials through ${indirect}, which neuralake does not ` +
        `support; export static ones instead, for example with ` +
        `eval "$(aws configure export-credentials --profile ${name} --format env)"`,
    );
  }
  return undefined;
}
