/**
 * Reconnection tokens are bearer credentials for a seat, so checkpoints never hold them: they
 * hold a keyed hash (HMAC-SHA256), and a rebuilt room checks the token a player's SDK presents
 * against it. The key is derived from ADMIN_TOKEN, which every node of a cluster shares and which
 * cluster mode requires: rotating ADMIN_TOKEN makes the seats held in checkpoints written before
 * the rotation unreachable for a room that moves during it.
 */
import { createHmac, hkdfSync, randomBytes } from "node:crypto";

/** HKDF's info: the key is for this use only, never the admin token itself. */
const LABEL = "locus checkpoint reconnection-token hash v1";

/** A token's keyed hash as a checkpoint stores it: 43 characters of base64url. */
export type TokenHash = (token: string) => string;

export const TOKEN_HASH_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Without a shared secret (a lone node, which writes no checkpoints) the key is random and dies with the process. */
export function tokenHasher(sharedSecret: string | undefined): TokenHash {
  const key = sharedSecret === undefined ? randomBytes(32) : Buffer.from(hkdfSync("sha256", sharedSecret, "", LABEL, 32));
  return (token) => createHmac("sha256", key).update(token).digest("base64url");
}
