// Days and wall-clock times in the user's timezone, which need not be the browser's.
//
// A day is a `YYYY-MM-DD` string and a time an `HH:MM` string, as date and time inputs give
// them. Day arithmetic happens in UTC, where no day is 23 or 25 hours long; only turning a
// wall-clock time into an instant (and back) consults the timezone, through Intl.

const DAY_MS = 24 * 3600 * 1000;
const pad = (n, width = 2) => String(n).padStart(width, "0");

const formatters = new Map();

function partsFormatter(timeZone) {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(timeZone, format);
  }
  return format;
}

// The wall clock in `timeZone` at an instant, written as the UTC instant with the same
// reading (so `wall - instant` is the offset). Instants are taken in whole seconds.
function wallClock(instant, timeZone) {
  const at = {};
  for (const { type, value } of partsFormatter(timeZone).formatToParts(instant)) {
    at[type] = Number(value);
  }
  return Date.UTC(at.year, at.month - 1, at.day, at.hour, at.minute, at.second);
}

const wholeSeconds = (instant) => Math.floor(instant / 1000) * 1000;

// Milliseconds to add to UTC to read the wall clock in `timeZone` at `instant`.
function offsetAt(instant, timeZone) {
  const whole = wholeSeconds(instant);
  return wallClock(whole, timeZone) - whole;
}

// The instant (ms since the epoch) at which `day` `time` happens in `timeZone`, read as the
// server reads local times (Python's zoneinfo, fold=0): a time that happens twice, when
// clocks go back, is the first of the two; a time that never happens, when clocks go
// forward, is read with the offset from before the jump, so 02:30 in a gap from 02:00 to
// 03:00 is 03:30.
export function instantOf(day, time, timeZone) {
  const [year, month, date] = day.split("-").map(Number);
  const [hours, minutes] = time.split(":").map(Number);
  const wall = Date.UTC(year, month - 1, date, hours, minutes);
  // Offsets are within a day of UTC, so the instant lies within a day of `wall`; the
  // offsets a day either side are those before and after any change near it.
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const readings = [wall - before, wall - after].filter(
    (instant) => wallClock(instant, timeZone) === wall,
  );
  return readings.length ? Math.min(...readings) : wall - before;
}

// `2026-11-18T09:00:00+11:00`: the instant as the wall clock of `timeZone` reads it.
export function isoIn(instant, timeZone) {
  const whole = wholeSeconds(instant);
  const wall = new Date(whole + offsetAt(whole, timeZone));
  const offset = Math.round((wall.getTime() - whole) / 60000);
  const sign = offset < 0 ? "-" : "+";
  const size = Math.abs(offset);
  return (
    `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}` +
    `T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(size / 60))}:${pad(size % 60)}`
  );
}

// The day and the time (`HH:MM`) that the wall clock of `timeZone` reads at an instant.
export function wallTimeOf(instant, timeZone) {
  const [day, time] = isoIn(instant, timeZone).split("T");
  return { day, time: time.slice(0, 5) };
}

// Today in `timeZone`.
export function todayIn(timeZone, now = Date.now()) {
  return wallTimeOf(now, timeZone).day;
}

function utcDate(day) {
  const [year, month, date] = day.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, date));
}

const dayOf = (date) =>
  `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;

export function addDays(day, count) {
  return dayOf(new Date(utcDate(day).getTime() + count * DAY_MS));
}

// 0 for Monday to 6 for Sunday, as weeks here start on Monday.
export function weekdayOf(day) {
  return (utcDate(day).getUTCDay() + 6) % 7;
}

export function mondayOf(day) {
  return addDays(day, -weekdayOf(day));
}

// A calendar day for people to read, in their language: `Wed 18 Nov` or `Wed, Nov 18`.
const dayFormats = new Map();

export function formatCalendarDay(
  day,
  options = { weekday: "short", day: "numeric", month: "short" },
) {
  const key = JSON.stringify(options);
  let format = dayFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(undefined, { ...options, timeZone: "UTC" });
    dayFormats.set(key, format);
  }
  return format.format(utcDate(day));
}
