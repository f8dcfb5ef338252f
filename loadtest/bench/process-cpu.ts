/**
 * CPU time of another process, read from /proc: the one measure that treats a Locus node, a
 * gateway and the plain Colyseus baseline exactly alike.
 */
import { readFileSync } from "node:fs";

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's times, on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/** User plus system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/**
 * CPU seconds of the process and of the children it started (a gateway's HAProxy), read from the
 * main thread's list of children, where a Node process's children are.
 */
export function treeCpuSeconds(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number);
  } catch {
    // A process that is gone has no children to read.
  }
  return children.reduce((sum, child) => sum + treeCpuSeconds(child), cpuSeconds(pid));
}
