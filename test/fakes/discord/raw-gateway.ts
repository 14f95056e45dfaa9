import { GatewayIntentBits } from "discord.js";
import { WebSocket } from "ws";

/** A bare gateway connection for protocol tests: what discord.js hides (close codes, op 9) stays visible. */
export interface RawGateway {
  readonly ws: WebSocket;
  next(): Promise<Record<string, unknown>>;
  readonly closed: Promise<{ code: number; reason: string }>;
  send(payload: object): void;
}

/** Opens a raw gateway connection; payloads queue until `next()` takes them. */
export function connectRaw(url: string): RawGateway {
  const ws = new WebSocket(url);
  const queue: Record<string, unknown>[] = [];
  const waiters: Array<(payload: Record<string, unknown>) => void> = [];
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const payload = JSON.parse(String(data)) as Record<string, unknown>;
    const waiter = waiters.shift();
    if (waiter) waiter(payload);
    else queue.push(payload);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = new Promise<void>((resolve) => ws.once("open", () => resolve()));
  return {
    ws,
    next: () => {
      const queued = queue.shift();
      return queued ? Promise.resolve(queued) : new Promise((resolve) => waiters.push(resolve));
    },
    closed,
    send: (payload) => void opened.then(() => ws.send(JSON.stringify(payload))),
  };
}

/** An IDENTIFY payload as a minimal client sends it; `shard` only when given. */
export function identifyPayload(token: string, options: { intents?: number; shard?: unknown } = {}): { op: 2; d: Record<string, unknown> } {
  const d: Record<string, unknown> = { token, intents: options.intents ?? GatewayIntentBits.Guilds, properties: { os: "linux", browser: "test", device: "test" } };
  if (options.shard !== undefined) d.shard = options.shard;
  return { op: 2, d };
}
