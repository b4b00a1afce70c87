// Distinct, user-explainable failures of age decryption.
export class AgeError extends Error {
  constructor(
    readonly code: "AGE_HEADER" | "AGE_WRONG_KEY" | "AGE_TRUNCATED" | "AGE_CORRUPT" | "AGE_TRAILING",
    message: string,
  ) {
    super(message);
    this.name = "AgeError";
  }
}

export const wrongKey = () => new AgeError("AGE_WRONG_KEY", "cannot decrypt: wrong passphrase or identity (or the header was tampered with)");
export const truncated = () => new AgeError("AGE_TRUNCATED", "the encrypted data is truncated: the snapshot is incomplete");
export const corrupt = (message = "the encrypted data failed authentication: the snapshot is corrupted or was modified") => new AgeError("AGE_CORRUPT", message);
export const badHeader = (why: string) => new AgeError("AGE_HEADER", `not a valid age file: ${why}`);
