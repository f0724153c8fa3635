/**
 * The supervisor of a run's roles: starts each one in its host (a worker or a
 * child process), restarts a role that exits while the run goes on, kills on
 * request (chaos), and stops groups of roles gracefully, killing those that
 * do not stop in time.
 *
 * Invariants:
 * - A role is restarted only while the run is not stopping, after the
 *   restart delay, and every restart is reported through `onRestart`.
 * - `stopGroup` resolves only when every role of the group has exited.
 */

import { sleep } from "../util/backoff.ts";
import type { HostExit, RoleHost } from "./hosts.ts";
import type { Command, RoleSpec } from "./messages.ts";

/** What the supervisor needs from the orchestrator. */
export interface SupervisorOptions {
  /** Starts a role's host. */
  start(spec: RoleSpec): RoleHost;
  /** The pause before a role that exited is started again, in ms. */
  restartDelayMs: number;
  /** Called when a role exited unasked, before the restart delay. */
  onExit?(spec: RoleSpec, exit: HostExit): void;
  /** Called when a role was started again. */
  onRestart?(spec: RoleSpec, exit: HostExit, downMs: number): void;
  /** Called when a role did not stop within the stop timeout and was killed. */
  onStopTimeout?(spec: RoleSpec): void;
}

interface Slot {
  spec: RoleSpec;
  host: RoleHost;
  restarts: number;
}

/** Runs a set of roles. */
export class Supervisor {
  readonly #slots = new Map<string, Slot>();
  #stopping = false;

  constructor(private readonly options: SupervisorOptions) {}

  /** Starts a role and keeps it running until `stopGroup`. */
  add(spec: RoleSpec): void {
    const slot: Slot = { spec, host: this.options.start(spec), restarts: 0 };
    this.#slots.set(spec.id, slot);
    this.#watch(slot);
  }

  /** The ids of the roles, in the order they were added. */
  ids(kind?: RoleSpec["kind"]): string[] {
    return [...this.#slots.values()]
      .filter((s) => kind === undefined || s.spec.kind === kind)
      .map((s) => s.spec.id);
  }

  /** Restarts of each role so far. */
  restarts(): Map<string, number> {
    return new Map([...this.#slots].map(([id, s]) => [id, s.restarts]));
  }

  /** Sends a command to a role's current host. */
  send(id: string, command: Command): void {
    this.#slots.get(id)?.host.send(command);
  }

  /** Kills a role at once (it is then restarted). */
  kill(id: string): void {
    this.#slots.get(id)?.host.kill();
  }

  /** True once a stop began: exits are no longer restarted. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Asks the roles `ids` to stop and waits for them, killing any that take longer than `timeoutMs`. */
  async stopGroup(
    ids: string[],
    timeoutMs: number,
    command: Command & { type: "stop" } = { type: "stop" },
  ): Promise<void> {
    this.#stopping = true;
    for (const id of ids) this.send(id, command);
    await Promise.all(ids.map(async (id) => {
      const slot = this.#slots.get(id);
      if (!slot) return;
      const done = await Promise.race([
        slot.host.exited.then(() => true),
        sleep(timeoutMs).then(() => false),
      ]);
      if (!done) {
        this.options.onStopTimeout?.(slot.spec);
        slot.host.kill();
        await slot.host.exited;
      }
    }));
  }

  #watch(slot: Slot): void {
    slot.host.exited.then(async (exit) => {
      if (this.#stopping) return;
      const at = Date.now();
      this.options.onExit?.(slot.spec, exit);
      await sleep(this.options.restartDelayMs);
      if (this.#stopping) return;
      slot.restarts++;
      slot.host = this.options.start(slot.spec);
      this.options.onRestart?.(slot.spec, exit, Date.now() - at);
      this.#watch(slot);
    });
  }
}
