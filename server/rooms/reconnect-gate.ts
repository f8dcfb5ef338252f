/**
 * Every websocket upgrade that carries a reconnection token (a Colyseus SDK's auto-reconnect)
 * asks its room what the token may do before the socket opens: a carried-over seat is admitted
 * once the token matches its hash, and a token for a seat whose player is playing is refused
 * with a 409 rather than left to wait on the live connection.
 */
import { matchMaker } from "@colyseus/core";
import { JoinErrorCode } from "../../shared/protocol.ts";
import { roomOfSocketUrl } from "../colyseus-internals.ts";
import { DurableRoom } from "../durable/durable-room.ts";

export function reconnectGate(request: Request): Response | undefined {
  const url = new URL(request.url);
  const token = url.searchParams.get("reconnectionToken");
  const { roomId } = roomOfSocketUrl(url);
  if (token === null || roomId === undefined) return undefined;
  const room = matchMaker.getLocalRoomById(roomId);
  if (!(room instanceof DurableRoom) || room.tokenVerdict(token) !== "in_use") return undefined;
  return new Response("this seat's player is connected", { status: JoinErrorCode.CONFLICT });
}
