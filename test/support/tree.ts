// Local tree helpers for byte-exact comparisons: they live with the harness's other tree helpers (test/helpers/trees.ts).
export { fingerprint, readTreeContents, writeTree } from "../helpers/trees.js";
