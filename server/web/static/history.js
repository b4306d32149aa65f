// History: one week at a time, its days (with each day's subjects) and its subjects.

import { addDays, formatCalendarDay, mondayOf } from "./calendar.js";
import { element } from "./dom.js";
import { formatDuration } from "./format.js";

const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;
const DAY_MONTH = { day: "numeric", month: "short" };

function breakdown(subjects) {
  return subjects
    .map(({ subject, seconds }) => `${subject} ${formatDuration(seconds)}`)
    .join(" · ");
}

function dayItem(group, today) {
  const item = element("li", group.seconds ? "history-day" : "history-day idle");
  item.dataset.day = group.key;
  const head = element("div", "history-day-head");
  const day = element("span", "day", formatCalendarDay(group.key));
  if (group.key === today) day.append(element("span", "today", " · today"));
  head.append(
    day,
    element("span", "day-total", group.seconds ? formatDuration(group.seconds) : "—"),
  );
  item.append(head);
  if (group.subjects?.length) {
    item.append(element("div", "history-breakdown", breakdown(group.subjects)));
  }
  return item;
}

function subjectItem(group, weekSeconds) {
  const item = element("li", "week-row");
  const head = element("div", "week-row-head");
  head.append(
    element("span", "name", group.label),
    element(
      "span",
      "figures",
      `${formatDuration(group.seconds)} · ${plural(group.sessions, "session")}`,
    ),
  );
  const track = element("div", "bar");
  track.setAttribute("aria-hidden", "true");
  const fill = element("div", "bar-fill");
  // CSSOM, not a style attribute: the page's Content-Security-Policy allows only this.
  fill.style.width = `${((group.seconds / Math.max(1, weekSeconds)) * 100).toFixed(1)}%`;
  track.append(fill);
  item.append(head, track);
  return item;
}

function csvLink(link, monday, groupBy) {
  const query = new URLSearchParams({ from: monday, to: addDays(monday, 6), group_by: groupBy });
  link.href = `/api/reports/summary.csv?${query}`;
}

// `byDay` and `bySubject` are the week's summaries grouped by day and by subject.
export function renderHistory(parts, monday, byDay, bySubject, today) {
  const sunday = addDays(monday, 6);
  parts.range.textContent =
    `${formatCalendarDay(monday, DAY_MONTH)} – ` +
    `${formatCalendarDay(sunday, { ...DAY_MONTH, year: "numeric" })}`;
  parts.total.textContent = `Week total: ${formatDuration(byDay.total_seconds)}`;
  parts.days.replaceChildren(...byDay.groups.map((group) => dayItem(group, today)));
  parts.subjects.replaceChildren(
    ...bySubject.groups.map((group) => subjectItem(group, bySubject.total_seconds)),
  );
  parts.empty.hidden = bySubject.groups.length > 0;
  csvLink(parts.csvDays, monday, "day");
  csvLink(parts.csvSubjects, monday, "subject");
  // aria-disabled, not disabled: a focused button must keep focus when it stops applying.
  const thisWeek = mondayOf(today);
  parts.next.setAttribute("aria-disabled", String(monday >= thisWeek));
  parts.thisWeek.setAttribute("aria-disabled", String(monday === thisWeek));
}
