/**
 * The operator's HTTP surface, `/admin/*`, behind `Authorization: Bearer $ADMIN_TOKEN`; served on
 * the operator listener only. Every refusal is reported to `failures`.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import express, { type Request, type Response, type Router } from "express";
import type { DrainStatus, RoomProgress } from "../cluster/drain.ts";
import type { AuthFailures } from "./auth-failures.ts";

/**
 * What `GET /admin/status` answers (and `POST /admin/drain`, `POST /admin/undrain` on success).
 * Read by the ops CLI and the drain bench; sent as JSON, so a field that is undefined is absent.
 */
export interface AdminStatus {
  readonly node: string;
  readonly mode: "cluster" | "single";
  readonly state: DrainStatus["state"];
  readonly drainStartedAt?: number;
  readonly drainFinishedAt?: number;
  readonly rooms: readonly { readonly roomId: string; readonly players: number; readonly handOff?: RoomProgress }[];
  /** Every room of the current or last drain, by id. */
  readonly handOffs: Readonly<Record<string, RoomProgress>>;
}

export interface AdminActions {
  status(): AdminStatus;
  /** Starts a drain; resolves with a refusal message when it cannot start. */
  drain(): Promise<{ refused?: string }>;
  undrain(): { refused?: string };
}

export function adminRouter(token: string | undefined, actions: AdminActions, failures: AuthFailures): Router {
  const router = express.Router();
  const expected = token === undefined ? undefined : digest(token);

  router.use((req: Request, res: Response, next) => {
    const remote = req.socket.remoteAddress ?? "unknown";
    if (expected === undefined) {
      failures.record(remote, req.originalUrl, "the admin API is off");
      return void res.status(401).json({ error: "the admin API is off: ADMIN_TOKEN is not set on this node" });
    }
    const header = req.get("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? digest(header.slice(7)) : undefined;
    if (!given || !timingSafeEqual(given, expected)) {
      failures.record(remote, req.originalUrl, given ? "wrong bearer token" : "no bearer token");
      return void res.status(401).set("www-authenticate", "Bearer").json({ error: "missing or wrong bearer token" });
    }
    next();
  });
  router.use(express.json({ limit: "1kb" }));

  router.get("/status", (_req, res) => {
    res.json(actions.status());
  });
  router.post("/drain", async (_req, res) => {
    const { refused } = await actions.drain();
    if (refused) return void res.status(409).json({ error: refused });
    res.status(202).json(actions.status());
  });
  router.post("/undrain", (_req, res) => {
    const { refused } = actions.undrain();
    if (refused) return void res.status(409).json({ error: refused });
    res.json(actions.status());
  });
  router.use((_req, res) => {
    res.status(404).json({ error: "unknown admin route: GET /admin/status, POST /admin/drain, POST /admin/undrain" });
  });
  router.use((err: unknown, _req: Request, res: Response, _next: express.NextFunction) => {
    res.status(400).json({ error: `bad request body: ${err instanceof Error ? err.message : String(err)}` });
  });
  return router;
}

/** Hashing first gives timingSafeEqual two buffers of one length whatever was sent. */
function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
