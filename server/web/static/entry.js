// "Add time": what the form says, turned into the body of `POST /api/timelogs/`. The day,
// start and end are wall-clock times in the user's timezone; the body carries instants
// with that timezone's offset at each of them, so a DST change between them is counted.

import { addDays, instantOf, isoIn } from "./calendar.js";
import { parseDuration } from "./format.js";

// A mistake in the form, found before asking the server; shown like the server's own.
export class InputError extends Error {}

export function entryBody(fields, timeZone) {
  const subject = fields.subject.trim();
  const goal = fields.goal.trim();
  const duration = fields.duration.trim();
  if (!subject) throw new InputError("Name the subject you worked on.");
  if (!fields.day) throw new InputError("Pick the day you worked.");
  if (!fields.start) throw new InputError("Enter the time you started.");
  if (fields.end && duration) {
    throw new InputError("Give the end time or the duration, not both.");
  }
  if (!fields.end && !duration) {
    throw new InputError("Enter the time you stopped, or how long you worked.");
  }
  const startedAt = instantOf(fields.day, fields.start, timeZone);
  let endedAt;
  if (duration) {
    const seconds = parseDuration(duration);
    if (seconds === null) {
      throw new InputError(
        `Couldn't read '${duration.slice(0, 24)}' as a duration. Try 1h 20m, 80m, 1:20 or 4800s.`,
      );
    }
    endedAt = startedAt + seconds * 1000;
  } else {
    // An end before the start is on the next day: 23:00 to 01:00 is two hours.
    const endDay = fields.end < fields.start ? addDays(fields.day, 1) : fields.day;
    endedAt = instantOf(endDay, fields.end, timeZone);
  }
  const body = {
    subject,
    started_at: isoIn(startedAt, timeZone),
    ended_at: isoIn(endedAt, timeZone),
  };
  if (goal) body.goal = goal;
  return body;
}
