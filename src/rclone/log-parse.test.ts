import { describe, expect, it } from "vitest";
import { explainError } from "./log-parse.js";

describe("explainError", () => {
  it("reads HTTP status codes, not the digits of a port, an address or a size", () => {
    const refused =
      'w/big.bin: Failed to copy: RequestError: send request failed caused by: Put "http://127.0.0.1:42931/bucket/w/big.bin": dial tcp 127.0.0.1:42931: connect: connection refused';
    expect(explainError(refused)).toMatch(/could not be reached/);
    expect(explainError("Put http://10.0.4.1:40312/x: dial tcp: i/o timeout")).toMatch(/could not be reached/);
    expect(explainError("copied 4290 bytes then: dial tcp 127.0.0.1:4011: connection refused")).toMatch(/could not be reached/);
    expect(explainError("Failed to copy: HTTP error 429 (429 Too Many Requests)")).toMatch(/rate-limiting/);
    expect(explainError("googleapi: Error 403: The caller does not have permission")).toMatch(/refused the credentials/);
    expect(explainError("status code: 401, request id: x")).toMatch(/refused the credentials/);
  });
});
