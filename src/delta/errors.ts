/**
 * The error for a table that needs something neuralake does not implement:
 * a Delta feature, a protocol version, or a column type. Callers catch it to
 * tell "refused" apart from "broken", and its `feature` names what is missing.
 */

/** Raised when a table needs a feature that neuralake does not implement. */
export class UnsupportedFeatureError extends Error {
  /** The feature's name, such as `deletionVectors` or `nestedColumns`. */
  readonly feature: string;
  constructor(feature: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnsupportedFeatureError";
    this.feature = feature;
  }
}
