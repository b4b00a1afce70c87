// age v1 (https://age-encryption.org/v1) on node:crypto, plus the legacy openssl format reader.
export { createAgeDecryptStream, createAgeEncryptStream, type EncryptOptions } from "./stream.js";
export { generateIdentity, parseIdentityFile, recipientOf } from "./keys.js";
export { AgeError } from "./errors.js";
export type { Unlock } from "./header.js";
