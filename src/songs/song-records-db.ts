import { z } from "zod";
import type { UsageStore } from "../usage/store.js";
import type { SongRecord, SongRecordStore } from "./song-records.js";

const songInputSchema = z.object({
  prompt: z.string().optional(),
  lyrics: z.string().optional(),
  gender: z.enum(["female", "male"]),
  format: z.enum(["mp3", "wav"]),
  watermark: z.boolean(),
});

/**
 * Song records in the bot's database, so a song's buttons keep working after a restart. Records
 * older than `keepMs` are removed by `prune` (their DashScope links expired long before).
 */
export function createDbSongRecordStore(store: UsageStore): SongRecordStore & { prune(keepMs: number): Promise<number> } {
  const { db } = store;
  return {
    async save(record) {
      const row = {
        id: record.id,
        requester_id: record.requesterId,
        guild_id: record.guildId,
        channel_id: record.channelId,
        input_json: JSON.stringify(record.input),
        title: record.title,
        result_lyrics: record.resultLyrics ?? null,
        request_id: record.requestId ?? null,
        audio_url: record.audioUrl ?? null,
        file_name: record.fileName,
        created_at: record.createdAt.getTime(),
      };
      await db.insertInto("bot_song_records").values(row).onConflict((oc) => oc.column("id").doNothing()).execute();
    },
    async get(id) {
      const row = await db.selectFrom("bot_song_records").selectAll().where("id", "=", id).executeTakeFirst();
      if (!row) return undefined;
      const input = songInputSchema.safeParse(JSON.parse(row.input_json));
      if (!input.success) return undefined;
      const record: SongRecord = {
        id: row.id,
        requesterId: row.requester_id,
        guildId: row.guild_id,
        channelId: row.channel_id,
        input: input.data,
        title: row.title,
        resultLyrics: row.result_lyrics ?? undefined,
        requestId: row.request_id ?? undefined,
        audioUrl: row.audio_url ?? undefined,
        fileName: row.file_name,
        createdAt: new Date(Number(row.created_at)),
      };
      return record;
    },
    async prune(keepMs) {
      const result = await db.deleteFrom("bot_song_records").where("created_at", "<", store.now().getTime() - keepMs).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
