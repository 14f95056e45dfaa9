import type { UsageStore } from "../usage/store.js";
import type { AnalysisConversation, ConversationStore } from "./conversations.js";

/**
 * Analysis conversations in the bot's database, so follow-up buttons keep working after a restart
 * and on any process. Kept `ttlMs` (the audio's temporary links expire within a day or two, so an
 * older conversation couldn't continue anyway).
 */
export function createDbConversationStore(store: UsageStore, options: { ttlMs: number }): ConversationStore & { prune(): Promise<number> } {
  const { db } = store;
  return {
    async save(conversation) {
      const row = {
        id: conversation.id,
        conversation_json: JSON.stringify(conversation),
        expires_at: conversation.createdAt.getTime() + options.ttlMs,
      };
      await db
        .insertInto("bot_conversations")
        .values(row)
        .onConflict((oc) => oc.column("id").doUpdateSet({ conversation_json: row.conversation_json }))
        .execute();
    },
    async get(id) {
      const row = await db.selectFrom("bot_conversations").selectAll().where("id", "=", id).where("expires_at", ">", store.now().getTime()).executeTakeFirst();
      if (!row) return undefined;
      const parsed = JSON.parse(row.conversation_json) as AnalysisConversation & { createdAt: string };
      return { ...parsed, createdAt: new Date(parsed.createdAt) };
    },
    async prune() {
      const result = await db.deleteFrom("bot_conversations").where("expires_at", "<=", store.now().getTime()).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
