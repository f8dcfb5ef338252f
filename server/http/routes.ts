/**
 * The node's own HTTP surface on the game port: liveness, readiness, Prometheus metrics and the
 * built browser game. Colyseus's matchmaking routes are mounted beside these by the transport.
 */
import { existsSync } from "node:fs";
import express, { type Express, type Router } from "express";
import type { Registry } from "prom-client";

export interface RouteDeps {
  readonly nodeId: string;
  readonly registry: Registry;
  readonly staticDir: string;
  /** False once the node stops taking new rooms (draining, shutting down). */
  readonly isReady: () => boolean;
  readonly admin: Router;
}

export function createHttpApp(deps: RouteDeps): Express {
  const app = express();
  app.disable("x-powered-by");

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok", node: deps.nodeId });
  });

  app.get("/readyz", (_req, res) => {
    const ready = deps.isReady();
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not ready", node: deps.nodeId });
  });

  app.get("/metrics", async (_req, res) => {
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });

  app.use("/admin", deps.admin);

  if (existsSync(deps.staticDir)) {
    app.use(express.static(deps.staticDir));
  } else {
    app.get("/", (_req, res) => {
      res.status(503).type("text/plain").send("The browser game is not built here: run `npm run build`, or `npm start` which builds it.\n");
    });
  }
  return app;
}
