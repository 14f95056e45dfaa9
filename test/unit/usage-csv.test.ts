import { describe, expect, it } from "vitest";
import { LEDGER_CSV_COLUMNS, toCsv, type LedgerRow } from "../../src/usage/index.js";

describe("toCsv", () => {
  it("writes a header and one CRLF-terminated line per row", () => {
    expect(toCsv([{ a: 1, b: "x" }, { a: 2, b: "y" }])).toBe("a,b\r\n1,x\r\n2,y\r\n");
  });

  it("quotes fields holding commas, quotes or line breaks and doubles the quotes inside", () => {
    const csv = toCsv([{ text: 'say "hi", then\nleave', other: "cr\rhere" }]);

    expect(csv).toBe('text,other\r\n"say ""hi"", then\nleave","cr\rhere"\r\n');
  });

  it("defuses text that a spreadsheet would run as a formula", () => {
    const csv = toCsv([{ a: "=HYPERLINK(\"http://x\")", b: "+1", c: "-2", d: "@SUM(A1)", e: -3 }]);

    expect(csv).toBe("a,b,c,d,e\r\n\"'=HYPERLINK(\"\"http://x\"\")\",'+1,'-2,'@SUM(A1),-3\r\n");
  });

  it("writes empty fields for null and undefined, ISO times for dates", () => {
    const csv = toCsv([{ a: null, b: undefined, c: new Date("2025-06-15T12:00:00Z"), d: true }]);

    expect(csv).toBe("a,b,c,d\r\n,,2025-06-15T12:00:00.000Z,true\r\n");
  });

  it("keeps the given column order and writes the header even without rows", () => {
    expect(toCsv([{ a: 1, b: 2 }], ["b", "a"])).toBe("b,a\r\n2,1\r\n");
    expect(toCsv<{ a: number }>([], ["a"])).toBe("a\r\n");
    expect(toCsv([])).toBe("");
  });

  it("exports ledger rows in the ledger's column order", () => {
    const row: LedgerRow = {
      requestId: "req-1",
      occurredAt: new Date("2025-06-15T12:00:00Z"),
      guildId: "100000000000000001",
      channelId: null,
      userId: "200000000000000001",
      feature: "song",
      model: "fun-music-v1",
      outcome: "ok",
      musicSeconds: 60,
      inputTokens: 0,
      outputTokens: 0,
      audioTokens: 0,
      latencyMs: 45000,
      bytesDelivered: null,
      estimatedCost: 3,
    };

    expect(toCsv([row], LEDGER_CSV_COLUMNS)).toBe(
      "occurredAt,requestId,guildId,channelId,userId,feature,model,outcome,musicSeconds,inputTokens,outputTokens,audioTokens,latencyMs,bytesDelivered,estimatedCost\r\n" +
        "2025-06-15T12:00:00.000Z,req-1,100000000000000001,,200000000000000001,song,fun-music-v1,ok,60,0,0,0,45000,,3\r\n",
    );
  });

  it("writes money without float noise", () => {
    expect(toCsv([{ cost: 0.0047 - 0.0000000000000001 }, { cost: 1234567.5 }], ["cost"])).toBe("cost\r\n0.0047\r\n1234567.5\r\n");
  });
});
