/**
 * `npm run bench`: every benchmark in bench/, one after another, each in its own Node process (so
 * one's heap, worker threads and database files cannot colour the next one's figures), printing
 * their output as it comes.
 *
 *   npm run bench [-- --quick] [-- --no-postgres]
 *
 * --quick: smaller sizes, for checking that the benchmarks still run (figures not comparable with
 * BENCHMARKS.md): the ledger with 100,000 rows and 1,000 writes instead of 1,000,000 and 5,000,
 * 3 chart renders per size instead of 10, one run per case for the audio, analysis and stall
 * benchmarks, one acknowledgement burst per database, 40 songs in flight instead of 200, 40 queued
 * requests instead of 200, 2 starts instead of 5.
 * --no-postgres: the ledger and acknowledgement benchmarks on SQLite only.
 * Exits non-zero if any benchmark failed, after running the others.
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "no-postgres": { type: "boolean", default: false },
  },
});

const benchDirectory = dirname(fileURLToPath(import.meta.url));
// tsx's loader by absolute URL, so that the children find it whatever the working directory.
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/**
 * Every benchmark, listed on purpose (no folder scanning), with the arguments of a quick run. One
 * file per benchmark; add an entry here for a new one. Each prints the load average beside its
 * figures, and gives timings as ratios or percentiles taken in the same run.
 */
const benchmarks: { file: string; args: string[]; quickArgs: string[] }[] = [
  {
    file: "ledger-report.ts",
    args: args["no-postgres"] ? ["--no-postgres"] : [],
    quickArgs: ["--rows", "100000", "--writes", "1000"],
  },
  { file: "usage-chart.ts", args: [], quickArgs: ["--runs", "3"] },
  { file: "audio-fit.ts", args: [], quickArgs: ["--quick"] },
  // Issue 8: a 5-minute recording against a 30 s one, 2 s per Qwen-Audio call (fake DashScope).
  { file: "analysis-long.ts", args: [], quickArgs: ["--quick"] },
  // Issue 8: main-thread stalls during a delivery, a re-encode, a split and a chart.
  { file: "main-thread-stalls.ts", args: [], quickArgs: ["--quick"] },
  // Issue 8: acknowledgement latency of 200 simultaneous /song (SQLite, PostgreSQL, a bare client's floor).
  { file: "ack-burst.ts", args: args["no-postgres"] ? ["--no-postgres"] : [], quickArgs: ["--runs", "1"] },
  // Issue 8: resident memory per in-flight 5 MB song, 200 at once (bot in a child process).
  { file: "song-memory.ts", args: [], quickArgs: ["--songs", "40"] },
  // Issue 8: progress edits per second and the longest unchanged wait, 200 queued at the defaults.
  { file: "progress-edits.ts", args: [], quickArgs: ["--requests", "40"] },
  // Issue 8: `npm start` once built.
  { file: "startup.ts", args: ["--warm"], quickArgs: ["--runs", "2"] },
];

function runBenchmark(file: string, benchArgs: string[]): Promise<number> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", tsxLoader, join(benchDirectory, file), ...benchArgs], { stdio: "inherit" });
    child.on("error", (error) => {
      console.error(`could not start ${file}: ${error.message}`);
      done(1);
    });
    child.on("exit", (code, signal) => done(code ?? (signal === null ? 1 : 128)));
  });
}

const failed: string[] = [];
for (const bench of benchmarks) {
  const benchArgs = [...bench.args, ...(args.quick ? bench.quickArgs : [])];
  console.log(`\n##### bench/${bench.file} ${benchArgs.join(" ")}`.trimEnd());
  const started = performance.now();
  const code = await runBenchmark(bench.file, benchArgs);
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`##### bench/${bench.file}: ${code === 0 ? "done" : `failed (exit code ${code})`} in ${seconds} s`);
  if (code !== 0) failed.push(bench.file);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(", ")}`);
  process.exitCode = 1;
}
