/**
 * The headless client for Node (tests, bots). Colyseus's SDK picks its WebSocket when it is first
 * imported, and its auto-reconnect stalls on Node 22's built-in one, so the `ws` package is put
 * in place before the SDK loads.
 */
import "./use-ws.ts";

export * from "./arena-client.ts";
export * from "./reversi-client.ts";
