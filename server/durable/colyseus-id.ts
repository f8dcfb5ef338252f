/**
 * A session id or reconnection token as Colyseus makes them. Never the name of something on
 * Object.prototype: the schema encoder (@colyseus/schema 5) keeps a map's key-to-index table in a
 * plain object, so a player keyed `constructor` finds `Object` there as its index and every patch
 * of the room throws, once a tick, with no state sent.
 */
export function isColyseusId(v: unknown): v is string {
  return typeof v === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(v) && !(v in Object.prototype);
}
