import { describe, expect, it } from "vitest";
import { errorMessage, isApiError } from "./api";

describe("errorMessage", () => {
  it("uses the message of a core error", () => {
    expect(errorMessage({ code: "forbidden", message: "permission denied: …" })).toBe("permission denied: …");
  });
  it("falls back to Error.message and to strings", () => {
    expect(errorMessage(new Error("boom"))).toBe("boom");
    expect(errorMessage("plain")).toBe("plain");
  });
  it("recognises only {code, message} objects as core errors", () => {
    expect(isApiError({ code: "x", message: "y" })).toBe(true);
    expect(isApiError({ message: "y" })).toBe(false);
    expect(isApiError(null)).toBe(false);
  });
});
