/**
 * Acknowledgement under a crowd (issue 8, item 1): 200 members send `/song` at once, and each
 * interaction's acknowledgement latency is the fake Discord's `elapsedMs` (dispatch of
 * INTERACTION_CREATE to the accepted callback). The real bot runs in a child process of its own
 * (`node --import tsx src/main.ts`, as in production where Discord is another machine), or with
 * `--in-process` in this one beside the fakes (the e2e sandbox, where the fakes' work of receiving
 * 200 callbacks shares the bot's event loop). Quotas off; on SQLite and on PostgreSQL.
 *
 *   npx tsx bench/ack-burst.ts [--members 200] [--runs 3] [--no-postgres] [--in-process]
 *
 * Each run is a fresh bot and database; one `/song` from another member is sent and acknowledged
 * first, so that lazy loading (discord.js' handlers, the first statement) is not in the burst.
 * Also printed: the time until every request is a job row or a refusal (the database work the
 * acknowledgement no longer waits for), and how many were refused privately (none should be).
 * The floor, in the same run: a bare discord.js client that only acknowledges
 * (bench/ack-floor-client.ts), with the bot's `fetch` and with @discordjs/rest's undici `request`.
 * PostgreSQL: a database of its own on TEST_DATABASE_URL's server (default
 * postgres://postgres@127.0.0.1:5432/test), dropped afterwards; skipped, saying why, if unreachable.
 */
import { InteractionResponseType, MessageFlags } from "discord.js";
import { parseArgs } from "node:util";
import { createTestDatabase } from "../test/e2e/shard-harness.js";
import type { InteractionHandle } from "../test/fakes/discord/index.js";
import { whyPostgresIsUnavailable } from "../test/postgres.js";
import { startFakeDashScope } from "../test/fakes/dashscope/index.js";
import { startFakeDiscord } from "../test/fakes/discord/index.js";
import { formatPercentiles, percentile, sendSongBurst, spawnBenchChild, startCrowdBot, waitUntil, type CrowdBot } from "./crowd.js";
import { loadAverage } from "./stall-probe.js";

const { values: args } = parseArgs({
  options: {
    members: { type: "string", default: "200" },
    runs: { type: "string", default: "3" },
    "no-postgres": { type: "boolean", default: false },
    "in-process": { type: "boolean", default: false },
  },
});
const members = Number(args.members);
const runs = Number(args.runs);

/** Refused privately: an ephemeral reply, or the public placeholder removed and an ephemeral follow-up. */
function wasRefused(handle: InteractionHandle): boolean {
  const response = handle.initialResponse();
  if (!response) return false;
  const flags = (response.data as { flags?: number } | undefined)?.flags ?? 0;
  if (response.type === InteractionResponseType.ChannelMessageWithSource) return (flags & MessageFlags.Ephemeral) !== 0;
  return handle.followups().some((message) => message.ephemeral);
}

function acceptedJobs(bot: CrowdBot): number {
  return bot.logs().filter((line) => line.msg === "job accepted").length;
}

type RunFigures = { acks: number[]; refused: number; unanswered: number; settledMs: number };

async function oneRun(databaseUrl: string | undefined): Promise<RunFigures> {
  const bot = await startCrowdBot({
    child: !args["in-process"],
    // Every song waits in the queue for the whole run (two at a time, 60 s each): only acceptance is measured.
    dashscope: { generationMs: 60_000, songSeconds: 8 },
    env: databaseUrl ? { DATABASE_URL: databaseUrl } : {},
  });
  try {
    const warmUp = await sendSongBurst(bot.discord, 1, { label: "warmup" });
    await warmUp[0]?.response(10_000);
    await waitUntil(() => acceptedJobs(bot) >= 1, "the warm-up job", 10_000);

    const started = performance.now();
    const handles = await sendSongBurst(bot.discord, members);
    await Promise.allSettled(handles.map((handle) => handle.response(30_000)));
    // Settled: every request is a job row or was refused.
    await waitUntil(() => acceptedJobs(bot) - 1 + handles.filter(wasRefused).length >= members, "every request to be accepted or refused", 60_000, 20);
    const settledMs = performance.now() - started;
    const acks = handles.flatMap((handle) => {
      const response = handle.initialResponse();
      return response ? [response.elapsedMs] : [];
    });
    return { acks, refused: handles.filter(wasRefused).length, unanswered: members - acks.length, settledMs };
  } finally {
    await bot.close();
  }
}

async function measure(name: string, databaseUrl: () => Promise<{ url: string | undefined; drop(): Promise<void> }>): Promise<void> {
  const where = args["in-process"] ? "bot in this process beside the fakes" : "bot in a child process";
  console.log(`\n${name} (${where}): ${members} members send /song at once, ${runs} run(s); ${loadAverage()}`);
  const p99s: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const database = await databaseUrl();
    try {
      const figures = await oneRun(database.url);
      p99s.push(percentile(figures.acks, 99));
      console.log(
        `  run ${run}: acknowledgement ${formatPercentiles(figures.acks)}; refused privately ${figures.refused}, unanswered ${figures.unanswered}; ` +
          `all accepted or refused ${(figures.settledMs / 1000).toFixed(2)} s after the burst; ${loadAverage()}`,
      );
    } finally {
      await database.drop();
    }
  }
  console.log(`  median p99 of ${runs}: ${percentile(p99s, 50).toFixed(1)} ms (target < 50 ms)`);
}

/** The acknowledgements of a bare client that does nothing else, against fresh fakes. */
async function floorRun(variant: string[]): Promise<number[]> {
  const discord = await startFakeDiscord();
  const dashscope = await startFakeDashScope();
  try {
    const env = { DISCORD_TOKEN: discord.token, DISCORD_API_URL: discord.restUrl, DEV_GUILD_ID: discord.guilds[0]?.id ?? "" };
    const client = await spawnBenchChild("ack-floor-client.ts", variant, env, "ready");
    try {
      await discord.waitForReady();
      await (await sendSongBurst(discord, 1, { label: "warmup" }))[0]?.response(10_000);
      const handles = await sendSongBurst(discord, members);
      return (await Promise.all(handles.map((handle) => handle.response(30_000)))).map((response) => response.elapsedMs);
    } finally {
      await client.stop();
    }
  } finally {
    await Promise.allSettled([discord.close(), dashscope.close()]);
  }
}

if (!args["in-process"]) {
  console.log(`\nFloor: a bare discord.js client that only acknowledges, ${members} at once, ${runs} run(s); ${loadAverage()}`);
  for (const [label, variant] of [["fetch, as the bot", []], ["@discordjs/rest's undici request", ["--undici-request"]]] as const) {
    for (let run = 1; run <= runs; run++) {
      console.log(`  ${label}, run ${run}: acknowledgement ${formatPercentiles(await floorRun([...variant]))}; ${loadAverage()}`);
    }
  }
}

await measure("SQLite", async () => ({ url: undefined, drop: async () => {} }));

if (args["no-postgres"]) {
  console.log("\nPostgreSQL skipped (--no-postgres)");
} else {
  const why = await whyPostgresIsUnavailable();
  if (why) {
    console.log(`\nPostgreSQL skipped: not reachable (${why})`);
  } else {
    await measure("PostgreSQL", () => createTestDatabase("bench_ack_burst"));
  }
}
