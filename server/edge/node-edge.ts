/**
 * The edge in front of a node's HTTP server: the one place a node intercepts requests ahead of
 * Colyseus. Colyseus registers its own request and upgrade listeners on the server (its
 * matchmaking router, which answers every OPTIONS with 204, is even prepended when it listens),
 * so the edge sits one step earlier, where the server emits the events: nothing Colyseus or
 * express runs sees a request the edge refused (a refused CORS preflight included), and no body
 * reaches them unread by the edge and over its limit.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { handBodyToColyseus, setAuthContextIp } from "../colyseus-internals.ts";
import type { Edge } from "./edge.ts";
import { hasBody, readBodyWithin } from "./request-body.ts";

export function guardNodeServer(server: Server, edge: Edge): void {
  edge.watch(server);
  const emit = server.emit.bind(server) as (event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === "request") {
      admitRequest(edge, args[0] as IncomingMessage, args[1] as ServerResponse, () => emit(event, ...args));
      return true;
    }
    if (event === "upgrade") {
      const req = args[0] as IncomingMessage;
      const address = edge.admitUpgrade(req, args[1] as Socket);
      if (address === undefined) return true;
      setAuthContextIp(req.headers, address);
      return emit(event, ...args);
    }
    return emit(event, ...args);
  }) as Server["emit"];
}

function admitRequest(edge: Edge, req: IncomingMessage, res: ServerResponse, pass: () => void): void {
  const address = edge.admitRequest(req, res);
  if (address === undefined) return;
  setAuthContextIp(req.headers, address);
  if (!hasBody(req)) return pass();
  readBodyWithin(req, edge.settings.maxBodyBytes).then(
    (body) => {
      if (body === undefined) return edge.refuseBody(req, address);
      handBodyToColyseus(req, body);
      pass();
    },
    () => res.destroy(),
  );
}
