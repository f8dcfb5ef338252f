/**
 * Who a request really comes from. A socket's peer is the client, unless the peer is one of the
 * operator's trusted proxies (a gateway, a load balancer): then `X-Forwarded-For` names the
 * client, read from the right, where each trusted proxy appended the address it saw, and only as
 * far left as the entries were written by trusted proxies. Anything left of that was written by
 * the client itself and proves nothing.
 */
import { BlockList, isIPv4, isIPv6 } from "node:net";

/** A set of addresses and CIDR blocks, IPv4 and IPv6 (an IPv4-mapped IPv6 address matches its IPv4 form). */
export class AddressList {
  readonly text: string;
  private readonly blocks = new BlockList();
  private readonly empty: boolean;

  private constructor(text: string, entries: readonly { address: string; prefix: number | undefined }[]) {
    this.text = text;
    this.empty = entries.length === 0;
    for (const { address, prefix } of entries) {
      const family = isIPv4(address) ? "ipv4" : "ipv6";
      if (prefix === undefined) this.blocks.addAddress(address, family);
      else this.blocks.addSubnet(address, prefix, family);
    }
  }

  /**
   * Parses a comma- or space-separated list like `127.0.0.1, ::1, 10.0.0.0/8`; an empty text or
   * `none` is an empty list. Returns the reason when an entry is not an address or a block.
   */
  static parse(text: string): { ok: true; value: AddressList } | { ok: false; error: string } {
    const entries: { address: string; prefix: number | undefined }[] = [];
    for (const entry of text.trim() === "none" ? [] : text.split(/[\s,]+/).filter(Boolean)) {
      const [raw, prefixText, extra] = entry.split("/");
      const address = normalizeAddress(raw!);
      const max = address && isIPv4(address) ? 32 : 128;
      const prefix = prefixText === undefined ? undefined : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (!address || extra !== undefined || (prefix !== undefined && !(prefix >= 0 && prefix <= max))) {
        return { ok: false, error: `${JSON.stringify(entry)} is not an IP address or a CIDR block like 10.0.0.0/8` };
      }
      entries.push({ address, prefix });
    }
    return { ok: true, value: new AddressList(text, entries) };
  }

  /** `address` must be normalized (`normalizeAddress`). */
  has(address: string): boolean {
    return !this.empty && this.blocks.check(address, isIPv4(address) ? "ipv4" : "ipv6");
  }
}

const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const BRACKETED = /^\[([^\]]+)\](?::\d{1,5})?$/;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;

/**
 * The canonical text of an address as sockets and proxies write it (an IPv4-mapped IPv6 address
 * becomes plain IPv4; a bracketed IPv6 or an IPv4 with a port loses the port), or undefined when
 * it is not an address at all.
 */
export function normalizeAddress(raw: string): string | undefined {
  let text = raw.trim();
  text = BRACKETED.exec(text)?.[1] ?? IPV4_WITH_PORT.exec(text)?.[1] ?? text;
  const mapped = MAPPED_IPV4.exec(text)?.[1];
  if (mapped !== undefined) text = mapped;
  if (isIPv4(text)) return text;
  if (!isIPv6(text)) return undefined;
  const groups = ipv6Groups(text);
  // The hexadecimal form of a mapped address (::ffff:7f00:1) is the same client as 127.0.0.1.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return text.toLowerCase();
}

/**
 * The key per-address limits count under. An IPv6 client is counted by its /64: that is the
 * smallest block a provider hands one subscriber, who can pick any of its 2^64 addresses at will.
 */
export function limitKey(address: string): string {
  if (!isIPv6(address)) return address;
  const g = ipv6Groups(address);
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(":")}::/64`;
}

/** The client behind `peer` (a socket's remote address), given the request's `X-Forwarded-For`. */
export function resolveClientAddress(peer: string, forwardedFor: string | undefined, trusted: AddressList): string {
  let address = peer;
  if (!forwardedFor || !trusted.has(address)) return address;
  const hops = forwardedFor.split(",");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]!);
    // Garbage where a trusted proxy should have written an address: stop at the last proxy we trust.
    if (!hop) return address;
    address = hop;
    if (!trusted.has(hop)) return hop;
  }
  return address;
}

/** `X-Forwarded-For` as the next hop should get it: what came in, with `peer` appended. */
export function appendForwardedFor(incoming: string | undefined, peer: string): string {
  return incoming ? `${incoming}, ${peer}` : peer;
}

/** The eight 16-bit groups of a valid IPv6 address (with or without `::` and a trailing IPv4). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text)?.[1];
  if (v4 !== undefined) {
    const [a, b, c, d] = v4.split(".").map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...middle, ...right].map((g) => parseInt(g, 16));
}
