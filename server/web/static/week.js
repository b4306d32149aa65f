// This week's plan against what was tracked: one bar per subject, with editable hours.

import { element } from "./dom.js";
import { formatDay, formatDuration, hoursValue } from "./format.js";

function figures(row) {
  const tracked = formatDuration(row.tracked_seconds);
  if (row.unplanned) return `${tracked} tracked, not planned`;
  const planned = `${tracked} of ${formatDuration(row.allocated_seconds)}`;
  if (row.remaining_seconds > 0) return `${planned} · ${formatDuration(row.remaining_seconds)} left`;
  const over = row.tracked_seconds - row.allocated_seconds;
  return over > 0 ? `${planned} · ${formatDuration(over)} over` : `${planned} · done`;
}

function bar(row) {
  const track = element("div", "bar");
  track.setAttribute("aria-hidden", "true");
  const fill = element("div", "bar-fill");
  let share = 1;
  if (!row.unplanned && row.allocated_seconds > 0) {
    share = Math.min(1, row.tracked_seconds / row.allocated_seconds);
  }
  // CSSOM, not a style attribute: the page's Content-Security-Policy allows only this.
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  if (row.unplanned || row.tracked_seconds > row.allocated_seconds) fill.classList.add("over");
  else if (row.remaining_seconds === 0 && row.allocated_seconds > 0) fill.classList.add("done");
  track.append(fill);
  return track;
}

function hoursForm(row, index, onSave, maxHours) {
  const form = element("form", "inline-form");
  const field = element("div", "field hours-field");
  const id = `week-hours-${index}`;
  const label = element("label", "visually-hidden", `Hours planned for ${row.subject}`);
  label.htmlFor = id;
  const input = element("input");
  Object.assign(input, { id, type: "number", min: "0", max: maxHours, step: "any", required: true });
  input.inputMode = "decimal";
  input.value = row.unplanned ? "" : hoursValue(row.allocated_seconds);
  input.placeholder = "hours";
  field.append(label, input);
  const button = element("button", "small", "Save");
  button.type = "submit";
  button.append(element("span", "visually-hidden", ` hours for ${row.subject}`));
  form.append(field, button);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onSave(row.subject, input.value, button);
  });
  return form;
}

export function renderWeek(parts, report, onSave, maxHours) {
  parts.range.textContent = `Week of ${formatDay(report.week_start)}`;
  const rows = report.subjects;
  parts.totals.textContent = rows.length
    ? `Tracked ${formatDuration(report.total_tracked_seconds)} of ` +
      `${formatDuration(report.total_allocated_seconds)} planned`
    : "";
  parts.rows.replaceChildren(
    ...rows.map((row, index) => {
      const item = element("li", row.unplanned ? "week-row unplanned" : "week-row");
      const head = element("div", "week-row-head");
      head.append(element("span", "name", row.subject), element("span", "figures", figures(row)));
      item.append(head, bar(row), hoursForm(row, index, onSave, maxHours));
      return item;
    }),
  );
  parts.empty.hidden = rows.length > 0;
}
