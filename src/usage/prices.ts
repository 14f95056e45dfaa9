import { z } from "zod";

/*
 * Prices turn usage into an *estimated* cost for reports and cost budgets. They are configuration,
 * not truth: Alibaba Cloud's bill is what counts. Set them with PRICES_JSON, e.g.
 *
 *   PRICES_JSON={"currency":"CNY","models":{"fun-music-v1":{"perMusicSecond":0.05},
 *     "qwen-audio-turbo":{"perThousandInputTokens":0.0004,"perThousandOutputTokens":0.0045,
 *     "perThousandAudioTokens":0.025}}}
 *
 * A model without an entry costs nothing in estimates and is listed in reports as unpriced.
 */

const rate = z.number({ error: "must be a number" }).nonnegative("must not be negative").finite();

export const modelPriceSchema = z.strictObject({
  /** Price per second of music billed (`usage.duration`). */
  perMusicSecond: rate.default(0),
  perThousandInputTokens: rate.default(0),
  perThousandOutputTokens: rate.default(0),
  /** Audio input tokens (Qwen-Audio / Qwen-Omni count them apart from text tokens). */
  perThousandAudioTokens: rate.default(0),
});
export type ModelPrice = z.infer<typeof modelPriceSchema>;

export const pricesSchema = z.strictObject({
  /** ISO 4217 code the prices are in, e.g. CNY or USD. */
  currency: z.string().regex(/^[A-Z]{3}$/, "must be a three-letter currency code such as CNY"),
  /** Prices by DashScope model name. */
  models: z.record(z.string().min(1), modelPriceSchema),
});
export type PriceTable = z.infer<typeof pricesSchema>;

/**
 * EXAMPLE prices, used when PRICES_JSON is unset. They are placeholders of the right order of
 * magnitude, not Alibaba Cloud's list prices (Fun-Music is an invitational preview without a
 * public price; Qwen-Audio is a free trial): the token rates are Qwen-Omni's published CNY rates
 * per 1,000 tokens at the time of writing. Check your Model Studio billing page and set PRICES_JSON.
 */
export const EXAMPLE_PRICES: PriceTable = {
  currency: "CNY",
  models: {
    "fun-music-v1": { perMusicSecond: 0.05, perThousandInputTokens: 0, perThousandOutputTokens: 0, perThousandAudioTokens: 0 },
    "fun-music-preview": { perMusicSecond: 0.05, perThousandInputTokens: 0, perThousandOutputTokens: 0, perThousandAudioTokens: 0 },
    "qwen2-audio-instruct": {
      perMusicSecond: 0,
      perThousandInputTokens: 0.0004,
      perThousandOutputTokens: 0.0045,
      perThousandAudioTokens: 0.025,
    },
    "qwen-audio-turbo": {
      perMusicSecond: 0,
      perThousandInputTokens: 0.0004,
      perThousandOutputTokens: 0.0045,
      perThousandAudioTokens: 0.025,
    },
    "qwen-audio-turbo-latest": {
      perMusicSecond: 0,
      perThousandInputTokens: 0.0004,
      perThousandOutputTokens: 0.0045,
      perThousandAudioTokens: 0.025,
    },
  },
};

export type PricesResult = { ok: true; prices: PriceTable } | { ok: false; problems: string[] };

/** Parses PRICES_JSON; empty or unset means the example prices. Pure; lists every problem. */
export function parsePrices(json: string | undefined): PricesResult {
  if (json === undefined || json.trim() === "") return { ok: true, prices: EXAMPLE_PRICES };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { ok: false, problems: [`PRICES_JSON is not valid JSON: ${(error as Error).message}`] };
  }
  const parsed = pricesSchema.safeParse(value);
  if (parsed.success) return { ok: true, prices: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => `PRICES_JSON.${issue.path.join(".")} ${issue.message}`),
  };
}

/** What a call (or a sum of calls of one model) used, as far as pricing is concerned. */
export type PricedUsage = {
  model: string;
  musicSeconds: number;
  inputTokens: number;
  outputTokens: number;
  audioTokens: number;
};

/**
 * Estimated cost of some usage of one model, in `prices.currency`; `undefined` when the model has
 * no price (so a report can say "unpriced" instead of showing a cost of zero). Pure.
 */
export function estimateCost(usage: PricedUsage, prices: PriceTable): number | undefined {
  const price = prices.models[usage.model];
  if (!price) return undefined;
  return (
    usage.musicSeconds * price.perMusicSecond +
    (usage.inputTokens / 1000) * price.perThousandInputTokens +
    (usage.outputTokens / 1000) * price.perThousandOutputTokens +
    (usage.audioTokens / 1000) * price.perThousandAudioTokens
  );
}
