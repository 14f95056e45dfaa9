/**
 * Why a local audio operation failed, in terms a caller can act on:
 * - `undecodable`: the input is not media ffmpeg can read (corrupt, truncated, not a media file);
 *   the user can fix it by sending another file.
 * - `no-audio`: the input is readable media without an audio stream (an image, a silent video).
 * - `timeout`: ffmpeg or ffprobe ran past its time limit and was killed.
 * - `tool-missing`: no usable ffmpeg/ffprobe binary (not found, not executable).
 * - `failed`: anything else; an internal failure, not the user's fault.
 */
export type AudioToolErrorReason = "undecodable" | "no-audio" | "timeout" | "tool-missing" | "failed";

/**
 * A failed probe, transcode or split. The message is for logs: it names the tool and ends with
 * the last lines ffmpeg wrote to stderr. Never show it to users; map `reason` to user text instead.
 */
export class AudioToolError extends Error {
  override readonly name = "AudioToolError";
  readonly reason: AudioToolErrorReason;
  /** The binary that failed, when one ran. */
  readonly tool: "ffmpeg" | "ffprobe" | undefined;
  /** Exit code of the process, when it exited on its own. */
  readonly exitCode: number | undefined;
  /** The last lines of the tool's stderr (capped), for logs. */
  readonly stderrTail: string;

  constructor(details: {
    reason: AudioToolErrorReason;
    message: string;
    tool?: "ffmpeg" | "ffprobe" | undefined;
    exitCode?: number | undefined;
    stderrTail?: string | undefined;
    cause?: unknown;
  }) {
    const tail = details.stderrTail?.trim() ?? "";
    super(tail === "" ? details.message : `${details.message}\n${tail}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = details.reason;
    this.tool = details.tool;
    this.exitCode = details.exitCode;
    this.stderrTail = tail;
  }
}
