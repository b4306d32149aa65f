// Durations and times as the rest of timetrack writes them: `1h 20m`, `HH:MM:SS`.

import { Status } from "./status.js";

const pad = (n) => String(n).padStart(2, "0");

export function formatClock(totalSeconds) {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds % 60)}`;
}

export function formatDuration(totalSeconds) {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  if (seconds === 0) return "0m";
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  const parts = [];
  if (minutes >= 60) parts.push(`${Math.floor(minutes / 60)}h`);
  if (minutes % 60) parts.push(`${minutes % 60}m`);
  return parts.join(" ");
}

// Seconds for a duration as people type it, in the service's grammar (`app/durations.py`):
// `1h 20m`, `80m`, `1:20`, `1:20:30`, `4800s`; a bare number is minutes. null if unreadable.
// The server still decides what it accepts; this only works out an end from a start.
const NUMBER = "(?:[0-9]+(?:\\.[0-9]+)?|\\.[0-9]+)";
const DURATION = new RegExp(
  "^(?:([0-9]+):([0-9]{2})(?::([0-9]{2}))?" +
    `|(${NUMBER})` +
    `|(?=[0-9.])(?:(${NUMBER})\\s*h\\s*)?(?:(${NUMBER})\\s*m\\s*)?(?:(${NUMBER})\\s*s)?)$`,
);

export function parseDuration(text) {
  const cleaned = text.trim().split(/\s+/).join(" ").toLowerCase();
  const match = cleaned ? DURATION.exec(cleaned) : null;
  if (!match) return null;
  const [, clockHours, clockMinutes, clockSeconds = "0", plain, hours, minutes, seconds] = match;
  if (clockHours !== undefined) {
    if (Number(clockMinutes) >= 60 || Number(clockSeconds) >= 60) return null;
    return Number(clockHours) * 3600 + Number(clockMinutes) * 60 + Number(clockSeconds);
  }
  if (plain !== undefined) return Math.round(Number(plain) * 60);
  return Math.round(Number(hours ?? 0) * 3600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0));
}

// Hours for an input box: 5400 s -> 1.5, trimmed to two decimals.
export function hoursValue(seconds) {
  return String(Math.round((seconds / 3600) * 100) / 100);
}

function formatter(timeZone, options) {
  try {
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat(undefined, options);
  }
}

export function formatStart(iso, timeZone) {
  const when = new Date(iso);
  return formatter(timeZone, {
    weekday: "short",
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  }).format(when);
}

export function formatDay(isoDate) {
  // A calendar date: read and written in UTC so no timezone can shift it by a day.
  const [year, month, day] = isoDate.split("-").map(Number);
  return formatter("UTC", { day: "numeric", month: "short", year: "numeric" }).format(
    new Date(Date.UTC(year, month - 1, day)),
  );
}

export const STATUS_LABELS = {
  [Status.RUNNING]: "Running",
  [Status.PAUSED]: "Paused",
  [Status.ENDED_UNCONFIRMED]: "Needs review",
  [Status.ENDED_CONFIRMED]: "Confirmed",
};

export const STATUS_CLASSES = {
  [Status.RUNNING]: "badge-running",
  [Status.PAUSED]: "badge-paused",
  [Status.ENDED_UNCONFIRMED]: "badge-unconfirmed",
  [Status.ENDED_CONFIRMED]: "badge-confirmed",
};

export function setBadge(element, status) {
  element.className = `badge ${STATUS_CLASSES[status] ?? "badge-idle"}`;
  element.textContent = STATUS_LABELS[status] ?? "Not tracking";
}
