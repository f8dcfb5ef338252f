import { createServer } from "node:net";

/**
 * Ports this process handed out. Once a probe closes, the kernel may offer its port again at once:
 * a node's PORT and ADMIN_PORT picked one after the other could then be the same port.
 */
const handedOut = new Set<number>();

/** A port that was free a moment ago, for a process that must be told its port in advance. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await probePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function probePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
