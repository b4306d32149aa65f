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
