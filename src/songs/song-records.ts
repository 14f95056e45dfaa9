import { randomBytes } from "node:crypto";
import type { SongInput } from "../dashscope/music-types.js";

/**
 * What the result buttons need to act on a song: who asked, what they asked for, and what came back.
 * Button custom ids carry only the record's id (Discord caps them at 100 characters).
 */
export type SongRecord = {
  id: string;
  requesterId: string;
  guildId: string | null;
  channelId: string | null;
  input: SongInput;
  title: string;
  /** Lyrics as Fun-Music returned them (the model writes them when only a prompt was given). */
  resultLyrics: string | undefined;
  requestId: string | undefined;
  /** DashScope's URL of the song (valid 24 h), for analysing a song that was posted as a link only. */
  audioUrl: string | undefined;
  fileName: string;
  createdAt: Date;
};

export type SongRecordStore = {
  save(record: SongRecord): Promise<void>;
  get(id: string): Promise<SongRecord | undefined>;
};

export function newSongId(): string {
  return randomBytes(9).toString("base64url");
}
