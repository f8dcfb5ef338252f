/**
 * The node's own HTTP surface on the game port: liveness, readiness and the built browser game.
 * Colyseus's matchmaking routes are mounted beside these by the transport. The operator's routes,
 * `/admin/*` and `/metrics`, are not here: they live on the operator listener (operator-server.ts),
 * and the game port answers 404 for them.
 */
import { existsSync } from "node:fs";
import express, { type Express, type Router } from "express";

export interface ProbeDeps {
  readonly nodeId: string;
  /** False once the node stops taking new rooms (draining, shutting down). */
  readonly isReady: () => boolean;
}

/** `/healthz` and `/readyz`, served on the game port and on the operator listener alike, so probes may use either. */
export function probeRouter(deps: ProbeDeps): Router {
  const router = express.Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok", node: deps.nodeId });
  });
  router.get("/readyz", (_req, res) => {
    const ready = deps.isReady();
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", node: deps.nodeId });
  });
  return router;
}

/** The operator's paths, matched as loosely as Express would route them (any case, trailing slash). */
export const OPERATOR_PATH = /^\/(admin(\/.*)?|metrics\/?)$/i;

export function createHttpApp(deps: { readonly probes: Router; readonly staticDir: string }): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(deps.probes);
  app.all(OPERATOR_PATH, (_req, res) => {
    res.status(404).json({ error: "not found" });
  });

  if (existsSync(deps.staticDir)) {
    app.use(express.static(deps.staticDir));
  } else {
    app.get("/", (_req, res) => {
      res.status(503).type("text/plain").send("The browser game is not built here: run `npm run build`, or `npm start` which builds it.\n");
    });
  }
  return app;
}
