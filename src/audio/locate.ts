import { accessSync, constants, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { AudioToolError } from "./errors.js";

/** Where a binary came from: `FFMPEG_PATH`/`FFPROBE_PATH`, a directory on PATH, or the npm installer packages. */
export type FfmpegSource = "configured" | "system" | "npm-package";

export type FfmpegLocation = {
  ffmpegPath: string;
  ffprobePath: string;
  /** Where `ffmpegPath` came from. */
  source: FfmpegSource;
  /** Where `ffprobePath` came from; differs from `source` when, say, PATH has ffmpeg but no ffprobe. */
  ffprobeSource: FfmpegSource;
};

export type PackageBinaries = { ffmpegPath: string | undefined; ffprobePath: string | undefined };

/**
 * Finds ffmpeg and ffprobe, each independently, preferring in order:
 * 1. the configured path (`config.ffmpegPath` / `config.ffprobePath`); a configured ffmpeg without a
 *    configured ffprobe also looks for ffprobe in the same directory;
 * 2. an executable on `pathEnv` (searched here, no `which`);
 * 3. the binaries of `@ffmpeg-installer/ffmpeg` and `@ffprobe-installer/ffprobe` (loaded only now,
 *    so a platform without a prebuilt binary does not fail at import).
 *
 * A configured path that is not an executable file is an operator mistake and throws rather than
 * silently using another binary. Throws `AudioToolError` (`tool-missing`) when nothing is found.
 */
export function locateFfmpeg(options: {
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
  /** The PATH to search; pass `process.env.PATH`. Empty or undefined means no system search. */
  pathEnv?: string | undefined;
  platform?: NodeJS.Platform;
  /** Where the npm packages' binaries are; injectable for tests. Defaults to requiring the packages. */
  packageBinaries?: () => PackageBinaries;
}): FfmpegLocation {
  const platform = options.platform ?? process.platform;
  const loadPackages = options.packageBinaries ?? loadInstallerPackages;
  let packages: PackageBinaries | undefined;
  const packageBinary = (tool: "ffmpeg" | "ffprobe"): string | undefined => {
    packages ??= loadPackages();
    const found = tool === "ffmpeg" ? packages.ffmpegPath : packages.ffprobePath;
    return found !== undefined && isExecutableFile(found, platform) ? found : undefined;
  };

  const configuredFfmpeg = configured("ffmpeg", "FFMPEG_PATH", options.ffmpegPath, platform);
  const configuredFfprobe =
    configured("ffprobe", "FFPROBE_PATH", options.ffprobePath, platform) ??
    (configuredFfmpeg === undefined ? undefined : sibling(configuredFfmpeg, "ffprobe", platform));

  const ffmpeg = pick(configuredFfmpeg, () => searchPath("ffmpeg", options.pathEnv, platform), () => packageBinary("ffmpeg"));
  const ffprobe = pick(configuredFfprobe, () => searchPath("ffprobe", options.pathEnv, platform), () => packageBinary("ffprobe"));

  if (ffmpeg === undefined || ffprobe === undefined) {
    const missing = [ffmpeg === undefined ? "ffmpeg" : undefined, ffprobe === undefined ? "ffprobe" : undefined].filter(Boolean).join(" and ");
    throw new AudioToolError({
      reason: "tool-missing",
      message:
        `No usable ${missing}: not configured (FFMPEG_PATH/FFPROBE_PATH), not on PATH, and the ` +
        `@ffmpeg-installer/@ffprobe-installer binaries are missing or not executable on ${platform}-${process.arch}` +
        ` (a package binary installed without its execute bit needs chmod +x).`,
    });
  }
  return { ffmpegPath: ffmpeg.path, ffprobePath: ffprobe.path, source: ffmpeg.source, ffprobeSource: ffprobe.source };
}

function pick(
  configuredPath: string | undefined,
  system: () => string | undefined,
  npmPackage: () => string | undefined,
): { path: string; source: FfmpegSource } | undefined {
  if (configuredPath !== undefined) return { path: configuredPath, source: "configured" };
  const onPath = system();
  if (onPath !== undefined) return { path: onPath, source: "system" };
  const fromPackage = npmPackage();
  if (fromPackage !== undefined) return { path: fromPackage, source: "npm-package" };
  return undefined;
}

function configured(tool: string, variable: string, value: string | undefined, platform: NodeJS.Platform): string | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const resolved = path.resolve(value.trim());
  if (!isExecutableFile(resolved, platform)) {
    throw new AudioToolError({
      reason: "tool-missing",
      message: `${variable} is set to ${resolved}, which is not an executable ${tool} file`,
    });
  }
  return resolved;
}

function sibling(ffmpegPath: string, tool: string, platform: NodeJS.Platform): string | undefined {
  const candidate = path.join(path.dirname(ffmpegPath), executableName(tool, platform));
  return isExecutableFile(candidate, platform) ? candidate : undefined;
}

function searchPath(tool: string, pathEnv: string | undefined, platform: NodeJS.Platform): string | undefined {
  if (pathEnv === undefined || pathEnv === "") return undefined;
  const delimiter = platform === "win32" ? ";" : ":";
  const name = executableName(tool, platform);
  for (const directory of pathEnv.split(delimiter)) {
    // An empty PATH entry means the current directory; we do not run binaries from there.
    if (directory.trim() === "" || !path.isAbsolute(directory)) continue;
    const candidate = path.join(directory, name);
    if (isExecutableFile(candidate, platform)) return candidate;
  }
  return undefined;
}

function executableName(tool: string, platform: NodeJS.Platform): string {
  return platform === "win32" ? `${tool}.exe` : tool;
}

function isExecutableFile(file: string, platform: NodeJS.Platform): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    // Windows has no execute bit; a file named *.exe is what we can do.
    if (platform !== "win32") accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The installer packages resolve their platform binary when required and throw (sometimes a bare
 * string) on platforms they do not ship, so they are required here, lazily, inside a try.
 */
function loadInstallerPackages(): PackageBinaries {
  const require = createRequire(import.meta.url);
  const pathOf = (name: string): string | undefined => {
    try {
      const loaded: unknown = require(name);
      if (typeof loaded === "object" && loaded !== null && "path" in loaded && typeof loaded.path === "string") return loaded.path;
      return undefined;
    } catch {
      return undefined;
    }
  };
  return { ffmpegPath: pathOf("@ffmpeg-installer/ffmpeg"), ffprobePath: pathOf("@ffprobe-installer/ffprobe") };
}
