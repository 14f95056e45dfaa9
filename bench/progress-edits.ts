/**
 * Progress edits under a queue (issue 8, item 3): `--requests` members (default 200) send `/song`
 * at once to a bot at its defaults (SONG_CONCURRENCY=2, PROGRESS_EDITS_PER_SECOND=15,
 * PROGRESS_INTERVAL_SECONDS=4), each song taking `--generation-ms` (2000) at the fake DashScope,
 * until every song is posted. From the fake Discord's request log:
 *
 * - progress edits (PATCH of an interaction's `@original` without a file) per 1-s window: the
 *   mean and the most in any window, beside all REST requests but the acknowledgements per
 *   window (discord.js's global limit is 50/s; interaction callbacks are outside it);
 * - for each member, the longest time their reply went without a visible change (content,
 *   embeds or components different from what it showed), from the acknowledgement until their
 *   song was posted: p50/p99/max over members.
 *
 *   npx tsx bench/progress-edits.ts [--requests 200] [--generation-ms 2000]
 *
 * The bot runs in a child process with its own defaults (bench/crowd.ts).
 */
import { parseArgs } from "node:util";
import type { FakeDiscord, InteractionHandle, RecordedRequest } from "../test/fakes/discord/index.js";
import { formatPercentiles, percentile, sendSongBurst, startCrowdBot, waitUntil } from "./crowd.js";
import { loadAverage } from "./stall-probe.js";

const { values: args } = parseArgs({
  options: {
    requests: { type: "string", default: "200" },
    "generation-ms": { type: "string", default: "2000" },
  },
});
const requests = Number(args.requests);

const isOriginalEdit = (request: RecordedRequest) => request.method === "PATCH" && /\/messages\/(@|%40)original$/.test(request.path) && request.status < 300;
const isDelivery = (request: RecordedRequest) => isOriginalEdit(request) && request.files.length > 0;

function songsPosted(discord: FakeDiscord, handles: readonly InteractionHandle[]): number {
  const ids = new Set(handles.map((handle) => handle.id));
  return discord.requests.filter((request) => isDelivery(request) && request.interactionId !== null && ids.has(request.interactionId)).length;
}

/** Counts of `times` (ms) per 1-s window from `from` to `to`. */
function perSecond(times: readonly number[], from: number, to: number): number[] {
  const windows = new Array<number>(Math.max(1, Math.ceil((to - from) / 1000))).fill(0);
  for (const at of times) {
    const index = Math.floor((at - from) / 1000);
    if (index >= 0 && index < windows.length) windows[index] = (windows[index] ?? 0) + 1;
  }
  return windows;
}

/** The longest stretch (ms) a member's reply showed the same thing, acknowledgement to posted song. */
function longestUnchanged(handle: InteractionHandle): number {
  const acknowledged = handle.initialResponse()?.at;
  if (acknowledged === undefined) return Number.NaN;
  let shown = "thinking";
  let since = acknowledged;
  let longest = 0;
  for (const request of handle.requests().filter(isOriginalEdit)) {
    const body = request.json as { content?: string; embeds?: unknown; components?: unknown } | undefined;
    const view = JSON.stringify([body?.content, body?.embeds, body?.components]);
    if (view === shown && !isDelivery(request)) continue;
    longest = Math.max(longest, request.at - since);
    shown = view;
    since = request.at;
    if (isDelivery(request)) return longest;
  }
  return Number.NaN;
}

console.log(`${requests} members send /song at once; bot at its defaults in a child process, ${args["generation-ms"]} ms per song; ${loadAverage()}`);
const bot = await startCrowdBot({ child: true, dashscope: { generationMs: Number(args["generation-ms"]), songSeconds: 8 }, env: { LOG_LEVEL: "info" } });
try {
  const started = Date.now();
  const handles = await sendSongBurst(bot.discord, requests);
  // Two songs at a time, each generationMs, and a margin for a loaded machine.
  const expectedMs = (requests / 2) * Number(args["generation-ms"]);
  await waitUntil(() => songsPosted(bot.discord, handles) >= requests, `${requests} songs posted`, expectedMs * 3 + 60_000, 500);
  const ended = Date.now();

  const during = bot.discord.requests.filter((request) => request.at >= started && request.at <= ended);
  const edits = during.filter((request) => isOriginalEdit(request) && !isDelivery(request));
  const editWindows = perSecond(edits.map((request) => request.at), started, ended);
  // Interaction callbacks are outside the bot's global rate limit (Discord's rate-limits docs), and discord.js's.
  const limited = during.filter((request) => !request.path.endsWith("/callback"));
  const allWindows = perSecond(limited.map((request) => request.at), started, ended);
  const seconds = (ended - started) / 1000;
  console.log(`  all ${requests} posted in ${seconds.toFixed(1)} s; ${edits.length} progress edits, ${(edits.length / requests).toFixed(1)} per member`);
  console.log(
    `  progress edits per 1-s window: mean ${(edits.length / seconds).toFixed(1)}, max ${Math.max(...editWindows)} (PROGRESS_EDITS_PER_SECOND=15); ` +
      `all REST requests but acknowledgements per window: mean ${(limited.length / seconds).toFixed(1)}, max ${Math.max(...allWindows)} (discord.js global limit 50/s)`,
  );
  const gaps = handles.map(longestUnchanged).filter((ms) => !Number.isNaN(ms));
  console.log(`  longest time a member's reply went unchanged (${gaps.length} members): ${formatPercentiles(gaps)} (target: nobody over ~15 s)`);
  const overTarget = gaps.filter((ms) => ms > 15_000).length;
  console.log(`  members who waited over 15 s without a change: ${overTarget} of ${gaps.length}; median of the members' longest ${(percentile(gaps, 50) / 1000).toFixed(1)} s; ${loadAverage()}`);
} finally {
  await bot.close();
}
