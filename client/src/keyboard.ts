/**
 * Turns held keys into a stick: WASD and the arrow keys, opposite keys cancelling.
 */
import type { Stick } from "../lib/arena-client.ts";

const AXES: Readonly<Record<string, readonly [number, number]>> = {
  KeyW: [0, -1],
  ArrowUp: [0, -1],
  KeyS: [0, 1],
  ArrowDown: [0, 1],
  KeyA: [-1, 0],
  ArrowLeft: [-1, 0],
  KeyD: [1, 0],
  ArrowRight: [1, 0],
};

export function bindKeyboard(target: Window, stick: Stick): () => void {
  const held = new Set<string>();
  const update = () => {
    let x = 0;
    let y = 0;
    for (const code of held) {
      const axis = AXES[code]!;
      x += axis[0];
      y += axis[1];
    }
    stick.x = Math.max(-1, Math.min(1, x));
    stick.y = Math.max(-1, Math.min(1, y));
  };
  const down = (e: KeyboardEvent) => {
    if (!(e.code in AXES) || e.target instanceof HTMLInputElement) return;
    e.preventDefault();
    held.add(e.code);
    update();
  };
  const up = (e: KeyboardEvent) => {
    if (held.delete(e.code)) update();
  };
  const blur = () => {
    held.clear();
    update();
  };
  target.addEventListener("keydown", down);
  target.addEventListener("keyup", up);
  target.addEventListener("blur", blur);
  return () => {
    target.removeEventListener("keydown", down);
    target.removeEventListener("keyup", up);
    target.removeEventListener("blur", blur);
  };
}
