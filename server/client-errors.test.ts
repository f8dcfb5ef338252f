import { ErrorCode, ServerError } from "@colyseus/core";
import { describe, expect, it } from "vitest";
import { clientError } from "./client-errors.ts";
import { cleanOptions } from "./matchmaking.ts";

describe("clientError", () => {
  it("keeps a refusal made on purpose, code and message", () => {
    for (const err of [new ServerError(400, "name must be 1 to 16 printable characters"), new ServerError(ErrorCode.MATCHMAKE_INVALID_ROOM_ID, 'room "x" not found'), new ServerError(503, "this node is draining")]) {
      expect(clientError(err)).toEqual({ error: err, internal: false });
    }
  });

  it("hides every other failure behind one code and message", () => {
    const internal = [
      new TypeError("b.hasOwnProperty is not a function"),
      Object.assign(new Error("WRONGTYPE Operation against a key holding the wrong kind of value"), { name: "ReplyError" }),
      // What Colyseus makes of an exception thrown in onCreate or the matchmaker, and of one in onJoin.
      new ServerError(ErrorCode.MATCHMAKE_UNHANDLED, "Cannot read properties of undefined (reading 'x')"),
      new ServerError(ErrorCode.APPLICATION_ERROR, "ECONNRESET"),
      new ServerError(ErrorCode.MATCHMAKE_UNHANDLED, 'remote room (r1) timed out, requesting "checkReconnectionToken with args ["secret-token"]". (1000ms exceeded)'),
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      "a thrown string",
      undefined,
    ];
    for (const err of internal) {
      const { error, internal: isInternal } = clientError(err);
      expect(isInternal).toBe(true);
      expect([error.code, error.message]).toEqual([500, "internal error"]);
    }
  });

  it("gives a refusal flattened into text between processes its own code back", () => {
    const { error, internal } = clientError(new Error("room final-match already exists"));
    expect(internal).toBe(false);
    expect([error.code, error.message]).toEqual([409, "room final-match already exists"]);
  });
});

describe("cleanOptions", () => {
  it("drops keys named like Object.prototype members and keeps the rest", () => {
    const options = JSON.parse('{"name":"Ada","roomId":"r1","hasOwnProperty":1,"__proto__":{"polluted":true},"constructor":2}');
    const clean = cleanOptions(options) as Record<string, unknown>;
    expect(clean).toEqual({ name: "Ada", roomId: "r1" });
    expect(Object.getPrototypeOf(clean)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("leaves what is not an object for the join check to refuse", () => {
    for (const value of ["Ada", 5, null, [1]]) expect(cleanOptions(value)).toBe(value);
  });
});
