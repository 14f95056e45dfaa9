import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseConfig, SETTING_NAMES } from "../../src/config.js";
import { HEALTH_PATH } from "../../src/http/server.js";

/*
 * No Docker engine runs here, so the image and the compose file are checked as text: the
 * structure an operator relies on, and that they agree with the code (the health route, the
 * settings the bot reads, the build scripts CI runs).
 */

const root = resolve(import.meta.dirname, "../..");
const read = (name: string) => readFileSync(resolve(root, name), "utf8");

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(dockerfile: string): { keyword: string; args: string }[] {
  return dockerfile
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

/** `ENV A=1 B=2` as pairs. */
function envPairs(args: string): [string, string][] {
  return [...args.matchAll(/([A-Z_][A-Z0-9_]*)=(\S*)/g)].map((match) => [match[1]!, match[2]!]);
}

const packageJson = JSON.parse(read("package.json")) as { scripts: Record<string, string> };
const dockerfile = instructions(read("Dockerfile"));
const runtimeStage = dockerfile.slice(dockerfile.findLastIndex((i) => i.keyword === "FROM"));

type ComposeService = {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  env_file?: string | string[];
  volumes?: string[];
  depends_on?: Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string };
};
const compose = parseYaml(read("docker-compose.yml")) as { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };

describe("the Docker image", () => {
  it("checks its health on the route the bot serves, with Node's fetch (the slim image has no curl)", () => {
    const healthcheck = runtimeStage.find((i) => i.keyword === "HEALTHCHECK");
    expect(healthcheck?.args).toMatch(/CMD \["node", "-e", /);
    const url = /fetch\(`http:\/\/127\.0\.0\.1:\$\{process\.env\.HTTP_PORT\}([^`]*)`\)/.exec(healthcheck?.args ?? "")?.[1];
    expect(url).toBe(HEALTH_PATH);
    expect(healthcheck?.args).toContain("process.exit(r.ok ? 0 : 1)");
  });

  it("listens for health and metrics on every interface of the container, on the port it exposes", () => {
    const env = new Map(runtimeStage.filter((i) => i.keyword === "ENV").flatMap((i) => envPairs(i.args)));
    expect(env.get("HTTP_HOST")).toBe("0.0.0.0");
    expect(env.get("HTTP_PORT")).toMatch(/^\d+$/);
    expect(runtimeStage.find((i) => i.keyword === "EXPOSE")?.args).toBe(env.get("HTTP_PORT"));
    // Every setting it sets is one the bot reads (NODE_ENV is Node's own).
    for (const name of env.keys()) if (name !== "NODE_ENV") expect(SETTING_NAMES).toContain(name);
  });

  it("builds with the scripts of package.json, the same build that npm start runs, and starts what npm start starts", () => {
    const runs = dockerfile.filter((i) => i.keyword === "RUN").map((i) => i.args);
    const npmRuns = runs.flatMap((command) => [...command.matchAll(/npm run (\S+)/g)].map((match) => match[1]!));
    expect(npmRuns).toEqual(["build"]);
    for (const script of npmRuns) expect(packageJson.scripts).toHaveProperty(script);
    expect(runs.some((command) => command.startsWith("npm ci"))).toBe(true);
    // `npm start` builds through the same script (only when the sources changed) and runs the same file.
    expect(packageJson.scripts.build).toBe("node scripts/build.mjs");
    expect(packageJson.scripts.prestart).toBe("node scripts/build.mjs --if-stale");
    const cmd = JSON.parse(runtimeStage.find((i) => i.keyword === "CMD")?.args ?? "[]") as string[];
    expect(cmd.join(" ")).toBe(packageJson.scripts.start);
    // What `npm test` type-checks (tsconfig.json) is what the build compiles.
    expect(JSON.parse(read("tsconfig.build.json")).extends).toBe("./tsconfig.json");
    expect(packageJson.scripts.typecheck).toBe("tsc -p tsconfig.json --noEmit");
  });

  it("copies in everything the build script reads, before it runs, and .dockerignore keeps none of it out", () => {
    const copies = dockerfile.filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from")).map((i) => i.args.split(/\s+/).slice(0, -1));
    const copied = copies.flat();
    for (const needed of ["package.json", "package-lock.json", "scripts/build.mjs", "tsconfig.json", "tsconfig.build.json", "src"]) {
      expect(copied).toContain(needed);
    }
    const ignored = read(".dockerignore").split("\n").map((line) => line.trim());
    for (const needed of ["src", "scripts", "package.json", "package-lock.json", "tsconfig.json"]) expect(ignored).not.toContain(needed);
  });
});

describe("docker-compose.yml", () => {
  const { db, bot } = compose.services;

  it("runs PostgreSQL with a named volume and a healthcheck", () => {
    expect(db?.image).toMatch(/^postgres:\d+/);
    const volume = db?.volumes?.[0]?.split(":")[0];
    expect(volume).toBeDefined();
    expect(compose.volumes).toHaveProperty(volume!);
    expect(db?.volumes?.[0]).toMatch(/:\/var\/lib\/postgresql\/data$/);
    expect(JSON.stringify(db?.healthcheck?.test)).toContain("pg_isready");
  });

  it("starts the bot once the database is healthy, with settings from .env", () => {
    expect(bot?.build).toBeDefined();
    expect(bot?.depends_on?.db?.condition).toBe("service_healthy");
    expect([bot?.env_file].flat()).toContain(".env");
  });

  it("sets only settings the bot reads, and they parse: PostgreSQL on the db service, health listener on", () => {
    const environment = bot?.environment ?? {};
    for (const name of Object.keys(environment)) expect(SETTING_NAMES).toContain(name);
    // ${POSTGRES_PASSWORD:-dashtune} as compose fills it in when .env sets no password.
    const filled = Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1")]));
    const parsed = parseConfig({ DISCORD_TOKEN: "token", DASHSCOPE_API_KEY: "key", ...filled });
    if (!parsed.ok) throw new Error(parsed.problems.join("; "));
    expect(parsed.config.http).toEqual({ host: "0.0.0.0", port: 8080 });
    const database = parsed.config.usage.database;
    expect(database.dialect).toBe("postgres");
    if (database.dialect === "postgres") expect(new URL(database.connectionString).host).toBe("db:5432");
    // The same user and database the db service creates.
    const url = new URL(filled.DATABASE_URL!);
    expect(url.username).toBe(db?.environment?.POSTGRES_USER);
    expect(url.pathname).toBe(`/${db?.environment?.POSTGRES_DB}`);
  });
});

describe(".env.example", () => {
  it("documents every setting the bot reads, and no other", () => {
    const documented = [...read(".env.example").matchAll(/^(?:# )?([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]!);
    expect([...documented].sort()).toEqual([...SETTING_NAMES].sort());
  });
});
