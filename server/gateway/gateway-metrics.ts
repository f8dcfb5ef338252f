/**
 * The gateway's own Prometheus metrics, served on its operator listener. One registry per
 * gateway; a new counter is one more field here, registered like the others.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { badRedisRecordsCounter, edgeRefusalsCounter } from "../metrics.ts";

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly relaysOpen: Gauge;
  readonly upgradesRefused: Counter<"reason">;
  readonly held: Counter<"kind">;
  readonly requestsProxied: Counter;
  readonly requestsRefused: Counter<"reason">;
  readonly edgeRefusals: Counter<"reason">;
  readonly badRedisRecords: Counter<"kind">;
}

/** `relaysOpen`: with HAProxy as the data plane, the sockets it carries, asked at each scrape; otherwise counted by the relay. */
export function createGatewayMetrics(relaysOpen?: () => Promise<number>): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "locus_gateway_" });
  return {
    registry,
    relaysOpen: new Gauge({
      name: "locus_gateway_relays_open",
      help: "Players' websockets this gateway is relaying to a node now.",
      registers: [registry],
      ...(relaysOpen
        ? {
            async collect(this: Gauge) {
              this.set(await relaysOpen());
            },
          }
        : {}),
    }),
    upgradesRefused: new Counter({
      name: "locus_gateway_upgrades_refused_total",
      help: "Websocket upgrades answered by the gateway itself and never relayed, by reason.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    held: new Counter({
      name: "locus_gateway_held_total",
      help: "Upgrades and requests for a room with no live owner, held while another node takes it over, by kind.",
      labelNames: ["kind"],
      registers: [registry],
    }),
    requestsProxied: new Counter({
      name: "locus_gateway_requests_proxied_total",
      help: "HTTP requests relayed to a node (matchmaking, the game page).",
      registers: [registry],
    }),
    requestsRefused: new Counter({
      name: "locus_gateway_requests_refused_total",
      help: "HTTP requests the gateway answered itself and never relayed (operator paths), by reason.",
      labelNames: ["reason"],
      registers: [registry],
    }),
    edgeRefusals: edgeRefusalsCounter(registry),
    badRedisRecords: badRedisRecordsCounter(registry),
  };
}
