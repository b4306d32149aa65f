// The live timer. Every tick derives the display from the server's numbers: the effective
// seconds it computed when we fetched the session, plus the wall time since that fetch while
// the session runs. Ticks are never counted, so a throttled background tab cannot drift.

import { formatClock } from "./format.js";
import { isRunning } from "./status.js";

export class LiveTimer {
  constructor(onTick) {
    this.onTick = onTick;
    this.session = null;
    this.syncedAt = 0;
    this.handle = null;
  }

  show(session) {
    this.session = session;
    this.syncedAt = Date.now();
    this.tick();
    if (isRunning(session)) this.#run();
    else this.#halt();
  }

  seconds() {
    if (!this.session) return 0;
    const base = this.session.effective_seconds;
    if (!isRunning(this.session)) return base;
    return base + Math.max(0, Math.floor((Date.now() - this.syncedAt) / 1000));
  }

  text() {
    return formatClock(this.seconds());
  }

  tick() {
    this.onTick(this.text(), this.session);
  }

  #run() {
    // A quarter-second cadence shows each new second promptly; the value is recomputed anyway.
    if (this.handle === null) this.handle = setInterval(() => this.tick(), 250);
  }

  #halt() {
    if (this.handle !== null) clearInterval(this.handle);
    this.handle = null;
  }
}
