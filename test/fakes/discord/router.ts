import type { FakeGateway } from "./gateway.js";
import type { ParsedBody } from "./http-body.js";
import type { FakeDiscordWorld, MutableRecordedRequest } from "./state.js";

export interface RouteContext {
  readonly world: FakeDiscordWorld;
  readonly gateway: FakeGateway;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: ParsedBody;
  readonly record: MutableRecordedRequest;
}

export interface RouteResult {
  readonly status: number;
  readonly body?: unknown;
}

export interface Route {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path below `/api/v10`, with `:name` parameters. */
  readonly template: string;
  /** "bot" routes need `Authorization: Bot <token>`; interaction routes are authorised by the token in the path. */
  readonly auth: "bot" | "none";
  handle(context: RouteContext): RouteResult | Promise<RouteResult>;
}

export interface RouteMatch {
  readonly route: Route;
  readonly params: Record<string, string>;
}

function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const wanted = template.split("/");
  const actual = path.split("/");
  if (wanted.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < wanted.length; index += 1) {
    const part = wanted[index] ?? "";
    // discord-api-types' Routes percent-encode segments (`/users/%40me`), as Discord accepts.
    let value: string;
    try {
      value = decodeURIComponent(actual[index] ?? "");
    } catch {
      return undefined;
    }
    if (part.startsWith(":")) {
      if (value === "") return undefined;
      params[part.slice(1)] = value;
    } else if (part !== value) return undefined;
  }
  return params;
}

/** Finds the route for a request; `"method-not-allowed"` when the path exists under another method. */
export function findRoute(routes: readonly Route[], method: string, path: string): RouteMatch | "method-not-allowed" | undefined {
  let pathExists = false;
  for (const route of routes) {
    const params = matchTemplate(route.template, path);
    if (!params) continue;
    if (route.method === method) return { route, params };
    pathExists = true;
  }
  return pathExists ? "method-not-allowed" : undefined;
}
