/**
 * The Reversi page: joins a game with the name chosen on the landing page, then shows it from
 * the headless client on every state patch (the server sends the clocks every 100 ms), with the
 * ping, node and room in a HUD. A click on a square sends a move; the server judges it.
 */
import { MatchMakeError } from "@colyseus/sdk";
import { parseJoinOptions } from "../../shared/protocol.ts";
import { joinReversi, type ReversiSession } from "../lib/reversi-client.ts";
import { ReversiView } from "./reversi-view.ts";
import { savedName } from "./saved-name.ts";

const $ = (id: string) => document.getElementById(id)!;
const status = $("status");
const back = $("back");
const hud = { ping: $("hud-ping"), node: $("hud-node"), room: $("hud-room"), status: $("hud-status") };

/** Read by the browser tests; the page itself never looks here. */
declare global {
  interface Window {
    reversi?: { session: ReversiSession | undefined };
  }
}
window.reversi = { session: undefined };

let session: ReversiSession | undefined;
const view = new ReversiView(document, (x, y) => session?.move(x, y));

async function start(): Promise<void> {
  const parsed = parseJoinOptions({ name: savedName() });
  if (!parsed.ok) {
    status.textContent = "Choose a name on the landing page first.";
    back.hidden = false;
    return;
  }
  try {
    session = await joinReversi({ url: location.origin, name: parsed.value.name, followRoom: true });
  } catch (err) {
    status.textContent = err instanceof MatchMakeError ? `Could not join: ${err.message}` : `Could not reach the server: ${String(err)}`;
    back.hidden = false;
    return;
  }
  play(session);
}

function play(s: ReversiSession): void {
  window.reversi!.session = s;
  hud.room.textContent = s.room.roomId;
  s.room.onStateChange(() => {
    view.render(s);
    hud.node.textContent = s.state?.nodeId || "–";
  });
  s.onError((code, message) => view.showRefusal(code, message));
  const pings = setInterval(() => (hud.ping.textContent = s.pingMs < 0 ? "–" : String(Math.round(s.pingMs))), 1000);
  s.room.onDrop(() => (hud.status.textContent = "connection lost, reconnecting…"));
  s.room.onReconnect(() => (hud.status.textContent = ""));
  s.room.onLeave((code, reason) => {
    clearInterval(pings);
    window.reversi!.session = undefined;
    if (code !== 4000) status.textContent = `Disconnected (${code}${reason ? `: ${reason}` : ""}).`;
    back.hidden = false;
  });
  // A page that goes away cannot come back to its seat (a new page is a new session): leave at
  // once, so an opponent is not kept waiting for the seat hold, nor matched with a seat nobody holds.
  addEventListener("pagehide", () => void s.leave());
  ($("leave") as HTMLButtonElement).onclick = async () => {
    await s.leave();
    location.assign("./");
  };
}

void start();
