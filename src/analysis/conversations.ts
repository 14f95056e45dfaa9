import { randomBytes } from "node:crypto";
import type { QwenAudioMessage, QwenAudioUsage } from "../dashscope/audio-types.js";
import type { AudioSource } from "./sources.js";

export type AnalysisAnswer = { title: string; pages: string[] };

/** One ≤30 s piece of the analysed audio and its own multi-turn history with the model. */
export type AnalysisPiece = {
  startSeconds: number;
  endSeconds: number;
  /** A Discord CDN URL the model fetches as is, or `oss://…` in DashScope's temporary storage. */
  audioUrl: string;
  history: QwenAudioMessage[];
  lastUsage: QwenAudioUsage | undefined;
};

/** What follow-up buttons need: who asked, the audio (already uploaded), and the turns so far. */
export type AnalysisConversation = {
  id: string;
  requesterId: string;
  guildId: string | null;
  channelId: string | null;
  /** The audio this conversation is about. */
  source: AudioSource;
  sourceName: string;
  durationSeconds: number;
  /** Seconds analysed when the recording was longer than the bot analyses. */
  truncatedAtSeconds: number | undefined;
  language: string;
  /** The Qwen-Audio model the conversation is held with. */
  model: string;
  pieces: AnalysisPiece[];
  /** Every answer so far, rendered into pages, so the page buttons of any reply keep working. */
  answers: AnalysisAnswer[];
  /** Further audio files on the same message, offered in a select menu. */
  otherSources: AudioSource[];
  ephemeral: boolean;
  /** Answers already posted in the channel by Share. */
  sharedAnswers: number[];
  createdAt: Date;
};

export type ConversationStore = {
  save(conversation: AnalysisConversation): Promise<void>;
  get(id: string): Promise<AnalysisConversation | undefined>;
};

export function newConversationId(): string {
  return randomBytes(9).toString("base64url");
}

/**
 * Keeps recent conversations in memory for `ttlMs` (Discord's attachment links and DashScope's
 * temporary files both expire within a day or two, so an older conversation couldn't continue).
 */
export function createMemoryConversationStore(options: { maxConversations: number; ttlMs: number; now?: () => number }): ConversationStore {
  const now = options.now ?? Date.now;
  const conversations = new Map<string, AnalysisConversation>();
  return {
    async save(conversation) {
      conversations.delete(conversation.id);
      conversations.set(conversation.id, conversation);
      while (conversations.size > options.maxConversations) {
        const oldest = conversations.keys().next().value;
        if (oldest === undefined) break;
        conversations.delete(oldest);
      }
    },
    async get(id) {
      const conversation = conversations.get(id);
      if (conversation && now() - conversation.createdAt.getTime() > options.ttlMs) {
        conversations.delete(id);
        return undefined;
      }
      return conversation;
    },
  };
}
