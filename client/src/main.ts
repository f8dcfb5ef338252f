/**
 * The landing page: name entry and a choice of game. The arena plays here, drawn every animation
 * frame from the headless client, with a HUD; Reversi has a page of its own. Served by every
 * Locus node at `/`.
 */
import { MatchMakeError } from "@colyseus/sdk";
import { ARENA_HEIGHT, ARENA_WIDTH } from "../../shared/constants.ts";
import { parseJoinOptions } from "../../shared/protocol.ts";
import { type ArenaSession, joinArena } from "../lib/arena-client.ts";
import { bindKeyboard } from "./keyboard.ts";
import { drawArena } from "./render.ts";
import { savedName, saveName } from "./saved-name.ts";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const lobby = $<HTMLElement>("lobby");
const game = $<HTMLElement>("game");
const form = $<HTMLFormElement>("join-form");
const nameInput = $<HTMLInputElement>("name");
const joinButton = $<HTMLButtonElement>("join");
const lobbyError = $<HTMLElement>("lobby-error");
const canvas = $<HTMLCanvasElement>("arena");
const hud = {
  ping: $("hud-ping"),
  tick: $("hud-tick"),
  node: $("hud-node"),
  players: $("hud-players"),
  score: $("hud-score"),
  status: $("hud-status"),
};
canvas.width = ARENA_WIDTH;
canvas.height = ARENA_HEIGHT;
const ctx = canvas.getContext("2d")!;

/** Read by the browser tests; the game itself never looks here. */
declare global {
  interface Window {
    locus?: { session: ArenaSession | undefined };
  }
}
window.locus = { session: undefined };
nameInput.value = savedName();

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const parsed = parseJoinOptions({ name: nameInput.value });
  if (!parsed.ok) {
    lobbyError.textContent = parsed.error;
    return;
  }
  if ((e.submitter as HTMLElement | null)?.id === "play-reversi") {
    // The Reversi page joins with the name it finds here.
    saveName(parsed.value.name);
    location.assign("reversi.html");
    return;
  }
  joinButton.disabled = true;
  lobbyError.textContent = "";
  try {
    // Straight to the room's node when the nodes advertise an address (PUBLIC_URL), else through this page's gateway.
    const session = await joinArena({ url: location.origin, name: parsed.value.name, followRoom: true });
    saveName(parsed.value.name);
    play(session);
  } catch (err) {
    lobbyError.textContent = err instanceof MatchMakeError ? `Could not join: ${err.message}` : `Could not reach the server: ${String(err)}`;
  } finally {
    joinButton.disabled = false;
  }
});

function play(session: ArenaSession): void {
  window.locus!.session = session;
  lobby.hidden = true;
  game.hidden = false;
  const unbindKeys = bindKeyboard(window, session.stick);
  let frameId = 0;
  let hudAt = 0;

  const frame = (now: number) => {
    session.frame(now);
    drawArena(ctx, session);
    if (now - hudAt > 250) {
      hudAt = now;
      updateHud(session);
    }
    frameId = requestAnimationFrame(frame);
  };
  frameId = requestAnimationFrame(frame);

  session.room.onDrop(() => (hud.status.textContent = "connection lost, reconnecting…"));
  session.room.onReconnect(() => (hud.status.textContent = ""));
  session.room.onError((code, message) => console.warn(`server warning ${code}: ${message}`));
  session.room.onLeave((code, reason) => {
    cancelAnimationFrame(frameId);
    unbindKeys();
    window.locus!.session = undefined;
    game.hidden = true;
    lobby.hidden = false;
    lobbyError.textContent = code === 4000 ? "" : `Disconnected (${code}${reason ? `: ${reason}` : ""}).`;
  });
  $<HTMLButtonElement>("leave").onclick = () => void session.leave();
}

function updateHud(session: ArenaSession): void {
  hud.ping.textContent = session.pingMs < 0 ? "–" : String(Math.round(session.pingMs));
  hud.tick.textContent = String(session.tickHz || "–");
  hud.node.textContent = session.state?.nodeId || "–";
  hud.players.textContent = String(session.state?.players?.size ?? 0);
  hud.score.textContent = String(session.me?.score ?? 0);
}
