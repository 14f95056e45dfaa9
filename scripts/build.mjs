// Builds dist/ with the TypeScript compiler. With --if-stale, only when the sources changed since
// the last build: `npm start`, `npm run report` and friends then start in about a second instead of
// waiting ~10 s for tsc every time.
//
// "Changed" is a hash of the contents of src/, the tsconfig files and package-lock.json, kept in
// dist/.build-inputs: contents, not modification times, so a checkout, a copy into a Docker layer
// or a clock change cannot fool it. Plain JavaScript on purpose: it must run before anything is
// compiled and without tsx.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const stampPath = join(root, "dist", ".build-inputs");
const ifStale = process.argv.includes("--if-stale");

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function inputsHash() {
  const files = [
    ...filesUnder(join(root, "src")),
    ...["tsconfig.json", "tsconfig.build.json", "package-lock.json"].map((name) => join(root, name)).filter((path) => existsSync(path)),
  ].sort();
  const hash = createHash("sha256");
  for (const file of files) {
    hash.update(relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex");
}

if (!existsSync(join(root, "src"))) {
  // `npm ci` in the Docker image's first layer runs `prepare` before the sources are copied in.
  process.stderr.write("build: no src/ yet; nothing to build\n");
  process.exit(0);
}

const hash = inputsHash();
if (ifStale && existsSync(stampPath) && readFileSync(stampPath, "utf8").trim() === hash) process.exit(0);

const reason = !ifStale ? "" : existsSync(stampPath) ? " (the sources changed since the last build)" : " (no build yet)";
process.stderr.write(`build: compiling${reason}, about 10 s…\n`);
// A clean dist/src, so that a deleted or renamed source leaves no stale module behind.
rmSync(join(root, "dist", "src"), { recursive: true, force: true });
rmSync(stampPath, { force: true });
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const result = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
if (result.status !== 0) process.exit(result.status ?? 1);
writeFileSync(stampPath, `${hash}\n`);
