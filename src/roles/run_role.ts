/**
 * Runs one role by kind; the single entry that workers, child processes and
 * the standalone role commands share.
 */

import { runCompactor } from "./compactor.ts";
import type { ChaosPhase, Report, RoleChannel, RoleSpec } from "./messages.ts";
import { runVacuumer } from "./vacuumer.ts";
import { runWriter } from "./writer.ts";

/** Runs the role that `spec` names until it stops. */
export function runRole(spec: RoleSpec, channel: RoleChannel): Promise<void> {
  switch (spec.kind) {
    case "writer":
      return runWriter(spec, channel);
    case "compactor":
      return runCompactor(spec, channel);
    case "vacuum":
      return runVacuumer(spec, channel);
  }
}

/** The parts of a channel that every implementation shares: stop and arm state. */
export class ChannelState {
  /** A channel over this state that reports through `send` and dies through `die`. */
  channel(send: (report: Report) => void, die: () => never): RoleChannel {
    // deno-lint-ignore no-this-alias
    const state = this;
    return {
      send,
      get stopRequested() {
        return state.stopRequested;
      },
      get stopping() {
        return state.stopping;
      },
      armed: state.armed,
      die,
    };
  }

  stopping = false;
  readonly armed = new Set<ChaosPhase>();
  readonly stopRequested: Promise<void>;
  #resolve!: () => void;

  constructor() {
    this.stopRequested = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Marks the role as stopping and wakes everything waiting on it. */
  requestStop(): void {
    this.stopping = true;
    this.#resolve();
  }
}
