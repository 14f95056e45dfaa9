import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AudioToolError } from "../../src/audio/errors.js";
import { locateFfmpeg, type PackageBinaries } from "../../src/audio/locate.js";

// Fake executables are shell scripts; Windows has neither the execute bit nor /bin/sh.
describe.skipIf(process.platform === "win32")("locateFfmpeg", () => {
  let root: string;
  const dir = (name: string): string => path.join(root, name);
  const packages = (): PackageBinaries => ({ ffmpegPath: path.join(dir("package"), "ffmpeg"), ffprobePath: path.join(dir("package"), "ffprobe") });
  const noPackages = (): PackageBinaries => ({ ffmpegPath: undefined, ffprobePath: undefined });

  beforeAll(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "dashtune-locate-"));
    const executable = (directory: string, name: string, mode = 0o755): void => {
      mkdirSync(dir(directory), { recursive: true });
      const file = path.join(dir(directory), name);
      writeFileSync(file, "#!/bin/sh\nexit 0\n");
      chmodSync(file, mode);
    };
    for (const directory of ["configured", "system", "package"]) {
      executable(directory, "ffmpeg");
      executable(directory, "ffprobe");
    }
    executable("configured-ffmpeg-only", "ffmpeg");
    executable("system-ffmpeg-only", "ffmpeg");
    executable("not-executable", "ffmpeg", 0o644);
    executable("not-executable", "ffprobe", 0o644);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("prefers the configured paths over PATH and the npm packages", () => {
    const located = locateFfmpeg({
      ffmpegPath: path.join(dir("configured"), "ffmpeg"),
      ffprobePath: path.join(dir("configured"), "ffprobe"),
      pathEnv: dir("system"),
      packageBinaries: packages,
    });
    expect(located).toEqual({
      ffmpegPath: path.join(dir("configured"), "ffmpeg"),
      ffprobePath: path.join(dir("configured"), "ffprobe"),
      source: "configured",
      ffprobeSource: "configured",
    });
  });

  it("looks for ffprobe next to a configured ffmpeg before searching elsewhere", () => {
    const located = locateFfmpeg({ ffmpegPath: path.join(dir("configured"), "ffmpeg"), pathEnv: dir("system"), packageBinaries: packages });
    expect(located.ffprobePath).toBe(path.join(dir("configured"), "ffprobe"));
    expect(located.ffprobeSource).toBe("configured");
  });

  it("prefers an ffmpeg on PATH over the npm packages", () => {
    const located = locateFfmpeg({ pathEnv: [dir("nowhere"), dir("system")].join(path.delimiter), packageBinaries: packages });
    expect(located).toMatchObject({ ffmpegPath: path.join(dir("system"), "ffmpeg"), source: "system", ffprobeSource: "system" });
  });

  it("falls back to the npm packages' binaries when PATH has neither", () => {
    const located = locateFfmpeg({ pathEnv: dir("nowhere"), packageBinaries: packages });
    expect(located).toMatchObject({ ffmpegPath: path.join(dir("package"), "ffmpeg"), source: "npm-package", ffprobeSource: "npm-package" });
  });

  it("takes each binary from the best place it exists, so PATH's ffmpeg can pair with the package's ffprobe", () => {
    const fromPath = locateFfmpeg({ pathEnv: dir("system-ffmpeg-only"), packageBinaries: packages });
    expect(fromPath).toMatchObject({ source: "system", ffprobeSource: "npm-package" });
    const configuredAlone = locateFfmpeg({ ffmpegPath: path.join(dir("configured-ffmpeg-only"), "ffmpeg"), pathEnv: dir("system"), packageBinaries: packages });
    expect(configuredAlone).toMatchObject({ source: "configured", ffprobeSource: "system" });
  });

  it("skips files on PATH that are not executable, and relative or empty PATH entries", () => {
    const pathEnv = ["", "relative/bin", dir("not-executable"), dir("system")].join(path.delimiter);
    expect(locateFfmpeg({ pathEnv, packageBinaries: packages }).ffmpegPath).toBe(path.join(dir("system"), "ffmpeg"));
  });

  it("refuses a configured path that is not an executable file rather than quietly using another ffmpeg", () => {
    const attempt = (): unknown => locateFfmpeg({ ffmpegPath: path.join(dir("not-executable"), "ffmpeg"), pathEnv: dir("system"), packageBinaries: packages });
    expect(attempt).toThrow(AudioToolError);
    expect(attempt).toThrow(/FFMPEG_PATH/);
    expect(() => locateFfmpeg({ ffprobePath: path.join(dir("nowhere"), "ffprobe"), packageBinaries: packages })).toThrow(/FFPROBE_PATH/);
  });

  it("says tool-missing, naming what is missing, when nothing is found", () => {
    let caught: unknown;
    try {
      locateFfmpeg({ pathEnv: dir("system-ffmpeg-only"), packageBinaries: noPackages });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AudioToolError);
    expect((caught as AudioToolError).reason).toBe("tool-missing");
    expect((caught as AudioToolError).message).toMatch(/No usable ffprobe/);
  });

  it("finds the real @ffmpeg-installer and @ffprobe-installer binaries when nothing else is there", () => {
    const located = locateFfmpeg({ pathEnv: "" });
    expect(located.source).toBe("npm-package");
    expect(located.ffprobeSource).toBe("npm-package");
    expect(statSync(located.ffmpegPath).isFile()).toBe(true);
    expect(located.ffmpegPath).toContain("@ffmpeg-installer");
    expect(located.ffprobePath).toContain("@ffprobe-installer");
  });
});
