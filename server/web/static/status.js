// A session's status as the API spells it, and the questions the page asks about it. The
// strings live here and nowhere else on the page.

export const Status = Object.freeze({
  RUNNING: "RUNNING",
  PAUSED: "PAUSED",
  ENDED_UNCONFIRMED: "ENDED_UNCONFIRMED",
  ENDED_CONFIRMED: "ENDED_CONFIRMED",
});

// The clock is moving.
export const isRunning = (session) => session?.status === Status.RUNNING;

// On hold; it can be resumed.
export const isPaused = (session) => session?.status === Status.PAUSED;

// Not clocked out yet: running or paused.
export const isActive = (session) => isRunning(session) || isPaused(session);

// Clocked out, whether confirmed or not.
export const isEnded = (session) =>
  session?.status === Status.ENDED_UNCONFIRMED || session?.status === Status.ENDED_CONFIRMED;

// Clocked out and waiting for its owner to confirm the time.
export const needsReview = (session) => session?.status === Status.ENDED_UNCONFIRMED;
