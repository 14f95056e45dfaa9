import { describe, expect, it } from "vitest";
import { DashScopeError, DashScopeOutcomeUnknownError } from "../../src/dashscope/errors.js";
import { describeFailure } from "../../src/discord/failure-text.js";
import { localTranslator } from "../../src/discord/router.js";
import { UserError } from "../../src/errors.js";
import { DASHSCOPE_ERRORS } from "../fakes/dashscope/index.js";

const t = localTranslator("en-US");
const dashscope = (code: string, status?: number) => new DashScopeError({ code, status, message: "raw upstream text sk-secret", endpoint: "/services/audio/music/generation" });

describe("what users read when something fails", () => {
  it.each(Object.entries(DASHSCOPE_ERRORS))("%s reads the same whether it came over HTTP %j or inside a 200 body", (code, entry) => {
    const overHttp = describeFailure(dashscope(code, entry.status), t, "ref123");
    const inOkBody = describeFailure(dashscope(code, 200), t, "ref123");
    expect(inOkBody).toEqual(overHttp);
  });

  it("tells plainly that a call lost after sending may have been charged, and was not sent again", () => {
    const lost = new DashScopeOutcomeUnknownError({ reason: "cut-off", message: "x", endpoint: "/e", status: 200 });
    const { text, level } = describeFailure(lost, t, "ref123");
    expect(text).toMatch(/may have been charged/);
    expect(text).toMatch(/not sent again/);
    expect(level).toBe("warn");
  });

  it("says a call given up at its time limit may have been charged", () => {
    const late = new DashScopeOutcomeUnknownError({ reason: "timed-out", message: "x", endpoint: "/e" });
    expect(describeFailure(late, t, "ref123").text).toMatch(/took longer than the bot waits.*may have been charged.*not sent again/);
  });

  it("says how long a silent stream was waited for", () => {
    const idle = new DashScopeOutcomeUnknownError({ reason: "stream-idle", idleMs: 30_000, message: "x", endpoint: "/e", status: 200 });
    const { text } = describeFailure(idle, t, "ref123");
    expect(text).toMatch(/nothing for 30 seconds/);
    expect(text).toMatch(/may have been charged/);
  });

  it.each([
    ["InvalidApiKey", 401, /API key was refused/],
    ["AccessDenied", 403, /no access to this model/],
    ["AccessDenied.Unpurchased", 403, /no access to this model/],
    ["Model.AccessDenied", 403, /no access to this model/],
    ["Arrearage", 400, /out of credit/],
    ["PrepaidBillOverdue", 429, /out of credit/],
    ["CommodityNotPurchased", 429, /out of credit/],
    ["ModelUnavailable", 503, /internal problem/],
    ["ResponseTimeout", 500, /took too long/],
    ["Throttling", 429, /rate-limiting.*a minute/],
    ["Throttling.RateQuota", 429, /rate-limiting/],
    ["Throttling.AllocationQuota", 429, /rate-limiting/],
    ["DataInspectionFailed", 400, /content check refused/],
    ["InvalidParameter", 400, /refused the request as invalid.*ref123/],
    ["InternalError", 500, /internal problem/],
    ["InternalError.Algo", 500, /internal problem/],
    ["ServiceUnavailable", 503, /internal problem/],
    ["RequestTimeout", undefined, /took too long/],
    ["NetworkError", undefined, /could not reach DashScope/],
    ["MalformedResponse", 200, /could not read/],
  ] as const)("%s (%s) says what happened and what to do", (code, status, expected) => {
    const { text } = describeFailure(dashscope(code, status), t, "ref123");
    expect(text).toMatch(expected);
    expect(text).not.toContain("raw upstream text");
    expect(text).not.toContain("sk-secret");
  });

  it("shows a user's own mistake in their words, at info level", () => {
    const result = describeFailure(new UserError("song.input.tooShort", { field: "lyrics", unit: "chinese-characters", min: 5, actual: 3 }), t, "r");
    expect(result).toEqual({ text: expect.stringContaining("3 Chinese characters"), level: "info" });
    expect(result.text).toContain("Add 2 more");
  });

  it("tells a user who already has a song running to wait", () => {
    expect(describeFailure(new UserError("busy"), t, "r").text).toMatch(/already have a request/);
  });

  it("turns an unknown error into an apology with the reference, never its message or stack", () => {
    const error = new TypeError("Cannot read properties of undefined (reading 'x')");
    const { text, level } = describeFailure(error, t, "deadbeef");
    expect(level).toBe("error");
    expect(text).toContain("deadbeef");
    expect(text).not.toContain("Cannot read");
  });

  it("tells a throttled user how long DashScope asked to wait", () => {
    const error = new DashScopeError({ code: "Throttling.RateQuota", status: 429, message: "x", endpoint: "/e", retryAfterSeconds: 12.2 });
    expect(describeFailure(error, t, "r").text).toMatch(/Try again in 13 seconds/);
  });
});
