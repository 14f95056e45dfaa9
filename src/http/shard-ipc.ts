import { randomUUID } from "node:crypto";
import type { ShardMetricsJson } from "./aggregate.js";
import type { HealthReport } from "./health.js";

/**
 * Questions the sharding manager asks each shard process over discord.js's IPC channel (the one
 * `Shard#send` and the child's `process.send` use), so that one `/healthz` and one `/metrics` can
 * speak for every process. Messages carry their own key (`_dashtuneAsk`, `_dashtuneAnswer`), which
 * discord.js's own handlers (`_ready`, `_eval`, `_fetchProp`, …) ignore and pass on as `message`
 * events. The channel serializes as JSON, so answers are plain data.
 */

/** A shard's readiness: its own checks (Discord connected, database answering), or that its bot has not started yet. */
export type ShardHealth = HealthReport | { healthy: false; starting: true };

/** What each question is answered with. */
export type ShardQuestions = {
  /** The shard's `metrics.registry.getMetricsAsJSON()`. */
  metrics: ShardMetricsJson;
  health: ShardHealth;
};
export type ShardQuestion = keyof ShardQuestions;

/** One end of an IPC channel: a discord.js `Shard` in the manager, `parentProcessPeer(process)` in a shard. */
export type IpcPeer = {
  send(message: unknown): Promise<unknown>;
  on(event: "message", listener: (message: unknown) => void): unknown;
  off(event: "message", listener: (message: unknown) => void): unknown;
};

/** Why a process gave no answer: it failed answering, didn't answer in time, or the channel refused the question. */
export type IpcProblem = "failed" | "timeout" | "unreachable";

export type IpcAnswer<T> = { ok: true; value: T } | { ok: false; problem: IpcProblem; message?: string };

export type IpcAsker = {
  /** Never rejects: no answer within `timeoutMs` is `{ ok: false, problem: "timeout" }`. */
  ask<Q extends ShardQuestion>(question: Q, timeoutMs: number): Promise<IpcAnswer<ShardQuestions[Q]>>;
};

type AskMessage = { _dashtuneAsk: { id: string; question: ShardQuestion } };
type AnswerMessage = { _dashtuneAnswer: { id: string; value?: unknown; error?: string } };

function isAsk(message: unknown): message is AskMessage {
  const ask = (message as Partial<AskMessage> | null)?._dashtuneAsk;
  return typeof ask === "object" && ask !== null && typeof ask.id === "string" && typeof ask.question === "string";
}

function isAnswer(message: unknown): message is AnswerMessage {
  const answer = (message as Partial<AnswerMessage> | null)?._dashtuneAnswer;
  return typeof answer === "object" && answer !== null && typeof answer.id === "string";
}

/**
 * The asking side, for one peer. One `message` listener serves every pending question (a
 * listener per question would pile up on a `Shard` under concurrent scrapes); answers are matched
 * by id, so a late answer to a question that already timed out is dropped.
 */
export function createIpcAsker(peer: IpcPeer): IpcAsker {
  const pending = new Map<string, (answer: IpcAnswer<unknown>) => void>();
  peer.on("message", (message) => {
    if (!isAnswer(message)) return;
    const { id, value, error } = message._dashtuneAnswer;
    pending.get(id)?.(error === undefined ? { ok: true, value } : { ok: false, problem: "failed", message: error });
  });
  return {
    ask(question, timeoutMs) {
      const id = randomUUID();
      return new Promise((resolve) => {
        const finish = (answer: IpcAnswer<unknown>) => {
          if (!pending.delete(id)) return;
          clearTimeout(timer);
          resolve(answer as IpcAnswer<ShardQuestions[typeof question]>);
        };
        const timer = setTimeout(() => finish({ ok: false, problem: "timeout" }), timeoutMs);
        pending.set(id, finish);
        const ask: AskMessage = { _dashtuneAsk: { id, question } };
        peer.send(ask).catch((error: unknown) => finish({ ok: false, problem: "unreachable", message: errorText(error) }));
      });
    },
  };
}

/** How a shard answers each question. */
export type IpcAnswerers = { [Q in ShardQuestion]: () => ShardQuestions[Q] | Promise<ShardQuestions[Q]> };

/**
 * The answering side: answers every question that arrives from `peer`. An answerer that throws
 * sends its error's message back (the asker reports `failed`). Returns a function that stops answering.
 */
export function answerIpcQuestions(peer: IpcPeer, answerers: IpcAnswerers): () => void {
  const onMessage = (message: unknown) => {
    if (!isAsk(message)) return;
    const { id, question } = message._dashtuneAsk;
    const answerer = Object.hasOwn(answerers, question) ? answerers[question] : undefined;
    void Promise.resolve()
      .then(() => {
        if (!answerer) throw new Error(`unknown question ${JSON.stringify(question)}`);
        return answerer();
      })
      .then(
        (value): AnswerMessage => ({ _dashtuneAnswer: { id, value } }),
        (error: unknown): AnswerMessage => ({ _dashtuneAnswer: { id, error: errorText(error) } }),
      )
      // The manager may be gone (its channel closed); a shard then stops on `disconnect` anyway.
      .then((answer) => peer.send(answer).catch(() => undefined));
  };
  peer.on("message", onMessage);
  return () => peer.off("message", onMessage);
}

/** A child process's channel to its parent (the sharding manager), as an `IpcPeer`. */
export function parentProcessPeer(child: NodeJS.Process): IpcPeer {
  return {
    send: (message) =>
      new Promise((resolve, reject) => {
        if (!child.send || !child.connected) return reject(new Error("this process has no IPC channel to a parent"));
        child.send(message, undefined, undefined, (error) => (error ? reject(error) : resolve(undefined)));
      }),
    on: (event, listener) => child.on(event, listener),
    off: (event, listener) => child.off(event, listener),
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
