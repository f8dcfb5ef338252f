/**
 * The operator listener: a port of its own, on an internal interface by default (ADMIN_PORT,
 * ADMIN_HOST), for what only operators and their tools may reach: Prometheus metrics, the admin
 * API, and the probes. Nodes and gateways each run one; no gateway ever relays to it, and it sends
 * no CORS headers, so no browser page may call it.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express, type Router } from "express";
import type { Registry } from "prom-client";

export interface OperatorRoutes {
  /** `/healthz` and `/readyz`. */
  readonly probes: Router;
  readonly registry: Registry;
  /** `/admin/*`, on nodes only. */
  readonly admin?: Router;
}

export function createOperatorApp(routes: OperatorRoutes): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(routes.probes);
  app.get("/metrics", async (_req, res) => {
    res.type(routes.registry.contentType).send(await routes.registry.metrics());
  });
  if (routes.admin) app.use("/admin", routes.admin);
  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  return app;
}

export interface OperatorListener {
  readonly server: Server;
  readonly port: number;
  /** `http://host:port` as a tool on this machine reaches it. */
  readonly url: string;
  close(): Promise<void>;
}

/** Listens, or rejects (a port in use) so the process stops before it takes players. */
export function listenOperator(app: Express, port: number, host: string): Promise<OperatorListener> {
  const server = createServer(app);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const bound = (server.address() as AddressInfo).port;
      resolve({
        server,
        port: bound,
        url: localUrl(host, bound),
        close: () => {
          server.closeAllConnections();
          return new Promise<void>((done) => server.close(() => done()));
        },
      });
    });
  });
}

/** The URL a process on this machine reaches a listener at: a wildcard address is reached on loopback. */
export function localUrl(host: string, port: number): string {
  if (host === "0.0.0.0") return `http://127.0.0.1:${port}`;
  if (host === "::") return `http://[::1]:${port}`;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
