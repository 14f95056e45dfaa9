import { sendSongBurst, startCrowdBot, percentile } from "./crowd.js";
const bot = await startCrowdBot({ child: true, dashscope: { generationMs: 60_000, songSeconds: 8 }, env: { ...(process.env.PGURL ? { DATABASE_URL: process.env.PGURL } : {}), NODE_OPTIONS: "--import /tmp/prof-preload.mjs" } });
const w = await sendSongBurst(bot.discord, 1, { label: "w" }); await w[0]!.response();
await new Promise((r) => setTimeout(r, 1000));
process.kill(bot.pid, "SIGUSR2"); await new Promise((r) => setTimeout(r, 300));
const t0 = Date.now();
const hs = await sendSongBurst(bot.discord, 200);
const t1 = Date.now();
await Promise.all(hs.map((h) => h.response()));
await new Promise((r) => setTimeout(r, 1500)); process.kill(bot.pid, "SIGWINCH"); await new Promise((r) => setTimeout(r, 1000));
const reqs = bot.discord.requests.filter((r) => r.at >= t0);
const cb = reqs.filter((r) => r.path.includes("/callback"));
const ats = cb.map((r) => r.at - t0);
const el = hs.map((h) => h.initialResponse()!.elapsedMs);
console.log("dispatch burst took", t1 - t0, "ms; callbacks received from", Math.min(...ats), "to", Math.max(...ats), "ms after burst start; elapsed p50", percentile(el, 50), "p99", percentile(el, 99));
const other = reqs.filter((r) => !r.path.includes("/callback"));
console.log("other requests during burst window:", other.filter(r=>r.at-t0 < Math.max(...ats)).map(r=>r.method+" "+r.route).slice(0,10), other.length);
// bot log timeline
const logs = bot.logs().filter((l) => typeof l.time === "number" && (l.time as number) >= t0);
const byMsg = new Map<string, number[]>();
for (const l of logs) { const k = String(l.msg); (byMsg.get(k) ?? byMsg.set(k, []).get(k)!).push((l.time as number) - t0); }
for (const [k, v] of byMsg) console.log(k, v.length, "first", Math.min(...v), "last", Math.max(...v));
await bot.close();
