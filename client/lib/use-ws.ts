import { WebSocket } from "ws";

(globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
