import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "../log.js";
import { runHealthChecks, type HealthCheck } from "./health.js";

/** The routes, exported so the Docker HEALTHCHECK test can compare its URL with the server's. */
export const HEALTH_PATH = "/healthz";
export const METRICS_PATH = "/metrics";

/** A readiness answer made by the caller (a sharding manager: one entry per shard process). */
export type HealthAnswer = {
  healthy: boolean;
  /** Served beside `status` in the JSON body. */
  body: Record<string, unknown>;
};

export type HttpServerOptions = {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /**
   * Readiness: this process's named checks (the body lists each one's state), or a function that
   * makes the whole answer (a sharding manager, from every shard's own checks).
   */
  checks: readonly HealthCheck[] | (() => Promise<HealthAnswer>);
  /**
   * The registry to serve: the bot's own, or in a sharding manager one aggregated from every
   * shard at each scrape (see aggregate.ts).
   */
  metrics: () => Registry | Promise<Registry>;
  logger: Logger;
};

export type RunningHttpServer = {
  /** `http://host:port`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
};

/** Starts the health and metrics listener. Rejects if the port can't be bound (in use, no permission). */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { logger } = options;
  const server = createServer((request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      logger.error({ err: error, path: request.url }, "http endpoint failed");
      if (!response.headersSent) send(response, 500, "text/plain; charset=utf-8", "internal error\n");
      else response.destroy();
    });
  });
  // A scraper keeps its connection open; close() must not wait for it.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => logger.error({ err: error }, "http server error"));
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(request: IncomingMessage, response: ServerResponse, options: HttpServerOptions): Promise<void> {
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  if (path !== HEALTH_PATH && path !== METRICS_PATH) {
    send(response, 404, "text/plain; charset=utf-8", "not found\n");
    return;
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("allow", "GET, HEAD");
    send(response, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  if (path === HEALTH_PATH) {
    const answer = await healthAnswer(options);
    const body = JSON.stringify({ status: answer.healthy ? "ok" : "unavailable", ...answer.body });
    send(response, answer.healthy ? 200 : 503, "application/json; charset=utf-8", `${body}\n`, request.method === "HEAD");
    return;
  }
  const registry = await options.metrics();
  send(response, 200, registry.contentType, await registry.metrics(), request.method === "HEAD");
}

async function healthAnswer(options: HttpServerOptions): Promise<HealthAnswer> {
  if (typeof options.checks === "function") return options.checks();
  const report = await runHealthChecks(options.checks, {
    onError: (name, error) => options.logger.warn({ err: error, check: name }, "health check failed"),
  });
  return { healthy: report.healthy, body: { checks: report.checks } };
}

function send(response: ServerResponse, status: number, contentType: string, body: string, headOnly = false): void {
  response.statusCode = status;
  response.setHeader("content-type", contentType);
  response.setHeader("cache-control", "no-store");
  response.setHeader("content-length", Buffer.byteLength(body));
  response.end(headOnly ? undefined : body);
}
