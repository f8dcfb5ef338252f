/**
 * Draws one frame of the arena on a 2D canvas in world units, scaled to the canvas.
 */
import { ARENA_HEIGHT, ARENA_WIDTH, COIN_RADIUS, OBSTACLES, PLAYER_RADIUS } from "../../shared/constants.ts";
import type { ArenaSession } from "../lib/arena-client.ts";

const PALETTE = ["#ff7b72", "#79c0ff", "#7ee787", "#d2a8ff", "#ffa657", "#f2cc60", "#56d4dd", "#ff9bce"];
const at = { x: 0, y: 0 };

export function drawArena(ctx: CanvasRenderingContext2D, session: ArenaSession): void {
  const { canvas } = ctx;
  const scale = canvas.width / ARENA_WIDTH;
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.fillStyle = "#1b2230";
  ctx.fillRect(0, 0, ARENA_WIDTH, ARENA_HEIGHT);
  ctx.strokeStyle = "#3a4a63";
  ctx.lineWidth = 6;
  ctx.strokeRect(3, 3, ARENA_WIDTH - 6, ARENA_HEIGHT - 6);

  ctx.fillStyle = "#3a4a63";
  for (const o of OBSTACLES) {
    ctx.beginPath();
    ctx.arc(o.x, o.y, o.r, 0, Math.PI * 2);
    ctx.fill();
  }

  const state = session.state;
  if (!state?.players) return;
  ctx.fillStyle = "#f2cc60";
  state.coins.forEach((coin) => {
    ctx.beginPath();
    ctx.arc(coin.x, coin.y, COIN_RADIUS, 0, Math.PI * 2);
    ctx.fill();
  });

  ctx.font = "20px system-ui, sans-serif";
  ctx.textAlign = "center";
  state.players.forEach((player, sessionId) => {
    session.positionOf(player, at);
    ctx.globalAlpha = player.connected ? 1 : 0.35;
    ctx.fillStyle = PALETTE[player.color % PALETTE.length]!;
    ctx.beginPath();
    ctx.arc(at.x, at.y, PLAYER_RADIUS, 0, Math.PI * 2);
    ctx.fill();
    if (sessionId === session.sessionId) {
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 4;
      ctx.stroke();
    }
    ctx.fillStyle = "#e8ecf1";
    ctx.fillText(`${player.name} ${player.score}`, at.x, at.y - PLAYER_RADIUS - 8);
  });
  ctx.globalAlpha = 1;
}
