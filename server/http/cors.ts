/**
 * Which browser pages may call the public HTTP API (matchmaking) from another origin. The game page
 * a node or gateway serves is same-origin and needs no grant; a page hosted elsewhere needs its
 * origin in ALLOWED_ORIGINS. Any other origin gets no Access-Control-Allow-* header and its
 * preflight is refused, so no browser lets that page send the SDK's requests or read an answer.
 */
import type { IncomingHttpHeaders } from "node:http";

/** The SDK sends its matchmaking requests with credentials, so a grant names the one origin, never `*`. */
const GRANT = {
  "Access-Control-Allow-Credentials": "true",
  "Access-Control-Allow-Methods": "GET, HEAD, POST",
  "Access-Control-Allow-Headers": "Origin, X-Requested-With, Content-Type, Accept, Authorization",
  "Access-Control-Max-Age": "7200",
  Vary: "Origin",
};
const NONE: Readonly<Record<string, string>> = Object.freeze({});

export class CorsPolicy {
  private readonly allowed: ReadonlySet<string>;

  /** `allowed`: origins as a browser serialises them (ALLOWED_ORIGINS, read by edge-settings.ts). */
  constructor(allowed: readonly string[]) {
    this.allowed = new Set(allowed);
  }

  /** The CORS headers of an answer to a request with this `Origin`: a grant for an allowed one, none otherwise. */
  headers(origin: string | null | undefined): Readonly<Record<string, string>> {
    return origin && this.allowed.has(origin) ? { "Access-Control-Allow-Origin": origin, ...GRANT } : NONE;
  }

  /** A browser's preflight from an origin that is not allowed: the edge answers it 403, and nothing behind it sees it. */
  refusesPreflight(method: string | undefined, headers: IncomingHttpHeaders): boolean {
    return method === "OPTIONS" && typeof headers.origin === "string" && headers["access-control-request-method"] !== undefined && !this.allowed.has(headers.origin);
  }
}
