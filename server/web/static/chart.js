// Tracked hours per day, stacked by subject, drawn here as SVG at the width it is shown.
//
// Readable without colour: subjects stack from the bottom in the legend's order, every
// segment is named by its <title> ("thesis: 1h 20m on Wed 18 Nov"), and the caption under
// the chart spells out the day a pointer is over or the keyboard is on. The chart is one
// tab stop; the arrow keys move between days (left, right) and subjects (up, down).

import { formatCalendarDay, weekdayOf } from "./calendar.js";
import { element } from "./dom.js";
import { formatDuration } from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const HEIGHT = 240;
const MARGIN = { top: 26, right: 6, bottom: 40, left: 32 };
// Distinct colours in the stylesheet; more subjects than this share the last one.
const COLOURS = 8;
// Hours between grid lines: the first that needs at most five lines.
const STEPS = [0.25, 0.5, 1, 2, 3, 4, 6, 8, 12];
// Width of a tick label's character, for deciding what fits without measuring.
const CHAR_WIDTH = 6.5;

function svg(tag, attributes = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

function text(x, y, content, className, anchor = "start") {
  const label = svg("text", { x, y, class: className, "text-anchor": anchor });
  label.textContent = content;
  return label;
}

// The subjects of the whole range, most time first; past the colours, the rest are one.
function seriesOf(groups, other) {
  const totals = new Map();
  for (const group of groups) {
    for (const { subject, seconds } of group.subjects ?? []) {
      totals.set(subject, (totals.get(subject) ?? 0) + seconds);
    }
  }
  const ranked = [...totals]
    .filter(([, seconds]) => seconds > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const named = ranked.length > COLOURS ? ranked.slice(0, COLOURS - 1) : ranked;
  const series = named.map(([name, seconds], index) => ({
    name,
    seconds,
    className: `series-${index}`,
    members: new Set([name]),
  }));
  const rest = ranked.slice(named.length);
  if (rest.length) {
    series.push({
      name: other,
      seconds: rest.reduce((sum, [, seconds]) => sum + seconds, 0),
      className: "series-other",
      members: new Set(rest.map(([name]) => name)),
    });
  }
  return series;
}

function daysOf(groups, series) {
  return groups.map((group) => {
    const segments = series.map((one) => ({ series: one, seconds: 0, shares: [] }));
    for (const share of group.subjects ?? []) {
      const index = series.findIndex((one) => one.members.has(share.subject));
      if (index < 0 || share.seconds <= 0) continue;
      segments[index].seconds += share.seconds;
      segments[index].shares.push(share);
    }
    return {
      key: group.key,
      label: formatCalendarDay(group.key),
      seconds: group.seconds,
      weekday: weekdayOf(group.key),
      segments: segments.filter((segment) => segment.seconds > 0),
    };
  });
}

function segmentName(segment) {
  if (segment.series.members.size === 1) return segment.series.name;
  const shares = segment.shares.map((s) => `${s.subject} ${formatDuration(s.seconds)}`);
  return `${segment.series.name} (${shares.join(", ")})`;
}

function segmentLabel(segment, day) {
  return `${segmentName(segment)}: ${formatDuration(segment.seconds)} on ${day.label}`;
}

// Where everything goes at this width: the plot area, one band per day, the hour scale.
function layoutOf(width, days) {
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = HEIGHT - MARGIN.bottom;
  const band = (right - left) / days.length;
  const most = Math.max(1, ...days.map((day) => day.seconds / 3600));
  const step = STEPS.find((hours) => most / hours <= 5) ?? 24;
  const hours = Math.ceil(most / step) * step;
  return {
    width,
    left,
    right,
    top,
    bottom,
    band,
    bar: Math.max(1, band - Math.max(1, band * 0.25)),
    step,
    hours,
    x: (index) => left + index * band,
    y: (seconds) => bottom - (seconds / 3600 / hours) * (bottom - top),
  };
}

// Weekends shaded, so weeks can be counted at a glance.
function drawWeekends(chart, at, days) {
  days.forEach((day, index) => {
    if (day.weekday < 5) return;
    const height = at.bottom - at.top;
    const x = at.x(index);
    chart.append(svg("rect", { x, y: at.top, width: at.band, height, class: "chart-weekend" }));
  });
}

// Hours: grid lines with their labels, and the axis's name.
function drawHours(chart, at) {
  for (let hours = 0; hours <= at.hours + 1e-9; hours += at.step) {
    const y = at.y(hours * 3600);
    chart.append(
      svg("line", { x1: at.left, x2: at.right, y1: y, y2: y, class: "chart-grid" }),
      text(at.left - 5, y + 4, String(Number(hours.toFixed(2))), "chart-tick", "end"),
    );
  }
  chart.append(text(0, 12, "Hours", "chart-axis-title"));
}

// Days: a tick on every Monday, labelled as often as the labels fit.
function drawDays(chart, at, days) {
  const week = at.band * 7;
  const format =
    week >= 80
      ? { weekday: "short", day: "numeric", month: "short" }
      : { day: "numeric", month: "short" };
  const every = week >= 40 ? 1 : 2;
  let mondays = 0;
  let free = 0;
  days.forEach((day, index) => {
    if (day.weekday !== 0) return;
    const x = at.x(index);
    chart.append(
      svg("line", { x1: x, x2: x, y1: at.bottom, y2: at.bottom + 5, class: "chart-axis" }),
    );
    if (mondays++ % every) return;
    const label = formatCalendarDay(day.key, format);
    // The last label moves left to stay inside, unless that would run into the one before.
    const left = Math.min(x, at.width - label.length * CHAR_WIDTH);
    if (left < free) return;
    chart.append(text(left, at.bottom + 18, label, "chart-tick"));
    free = left + label.length * CHAR_WIDTH + 4;
  });
  chart.append(
    svg("line", { x1: at.left, x2: at.right, y1: at.bottom, y2: at.bottom, class: "chart-axis" }),
  );
}

function named(node, label) {
  const title = svg("title");
  title.textContent = label;
  node.setAttribute("role", "img");
  node.setAttribute("tabindex", "-1");
  node.append(title);
  return node;
}

// One column per day, which the pointer finds even over a thin bar. What the keyboard
// reaches in it: each segment, bottom first, or the column itself when nothing was tracked.
function drawBars(chart, at, days) {
  return days.map((day, index) => {
    const column = svg("g", { class: "chart-day" });
    const height = at.bottom - at.top;
    const hit = svg("rect", {
      x: at.x(index),
      y: at.top,
      width: at.band,
      height,
      class: "chart-hit",
    });
    column.dataset.day = hit.dataset.day = String(index);
    column.append(hit);
    let base = 0;
    const parts = day.segments.map((segment, order) => {
      const low = at.y(base);
      base += segment.seconds;
      const high = at.y(base);
      // A one-pixel gap between segments tells them apart without colour.
      const gap = order > 0 && low - high > 2 ? 1 : 0;
      const rect = svg("rect", {
        x: at.x(index) + (at.band - at.bar) / 2,
        y: high,
        width: at.bar,
        height: Math.max(1, low - high - gap),
        class: `chart-segment ${segment.series.className}`,
      });
      rect.dataset.day = String(index);
      rect.dataset.segment = String(order);
      return named(rect, segmentLabel(segment, day));
    });
    if (!parts.length) {
      hit.dataset.segment = "0";
      hit.classList.add("chart-empty");
      parts.push(named(hit, `${day.label}: nothing tracked`));
    }
    column.append(...parts.filter((part) => part !== hit));
    chart.append(column);
    return parts;
  });
}

export class DayChart {
  // Each day's `subjects` are what is stacked: a team's chart stacks its members there.
  constructor({ figure, caption, legend, title = "chart-title", help = "chart-help", other = "Other subjects" }) {
    this.figure = figure;
    this.caption = caption;
    this.legend = legend;
    this.labels = { title, help, other };
    this.days = [];
    this.series = [];
    this.items = [];
    this.svg = null;
    this.width = 0;
    // Where the keyboard is (or would land): a day and one of its segments, bottom first.
    this.at = null;
    this.hovered = null;
    new ResizeObserver(() => {
      if (this.days.length && this.figure.clientWidth !== this.width) this.#draw();
    }).observe(figure);
    // Listeners on the figure, not the <svg>: Chromium makes an <svg> with focus listeners
    // a tab stop of its own.
    figure.addEventListener("keydown", (event) => this.#key(event));
    figure.addEventListener("focusin", (event) => this.#focused(event.target));
    figure.addEventListener("focusout", (event) => {
      if (!figure.contains(event.relatedTarget)) this.#describe();
    });
    // pointermove, not pointerover: the latter also fires when the page scrolls under a
    // resting pointer, which would take the caption from the keyboard.
    figure.addEventListener("pointermove", (event) => this.#pointed(event.target));
    figure.addEventListener("pointerleave", () => {
      this.hovered = null;
      this.#describe();
    });
  }

  show(summary) {
    this.summary = summary;
    this.series = seriesOf(summary.groups, this.labels.other);
    this.days = daysOf(summary.groups, this.series);
    if (!this.at || this.at.day >= this.days.length) {
      this.at = { day: this.days.length - 1, segment: 0 };
    }
    this.#drawLegend();
    this.#draw();
  }

  #drawLegend() {
    this.legend.replaceChildren(
      ...this.series.map((one) => {
        const item = element("li");
        const swatch = element("span", `swatch ${one.className}`);
        swatch.setAttribute("aria-hidden", "true");
        item.append(
          swatch,
          element("span", "name", one.name),
          element("span", "muted", ` ${formatDuration(one.seconds)}`),
        );
        return item;
      }),
    );
    this.legend.hidden = this.series.length === 0;
  }

  #draw() {
    const focused = this.svg?.contains(document.activeElement);
    this.width = this.figure.clientWidth;
    const at = layoutOf(Math.max(this.width, 200), this.days);
    const chart = svg("svg", {
      width: at.width,
      height: HEIGHT,
      viewBox: `0 0 ${at.width} ${HEIGHT}`,
      class: "chart-svg",
      role: "group",
      "aria-labelledby": this.labels.title,
      "aria-describedby": this.labels.help,
    });
    drawWeekends(chart, at, this.days);
    drawHours(chart, at);
    drawDays(chart, at, this.days);
    this.items = drawBars(chart, at, this.days);
    this.svg?.remove();
    this.svg = chart;
    this.figure.append(chart);
    this.#rove(focused);
    this.#describe();
  }

  #item(at) {
    const parts = this.items[at.day];
    return parts[Math.min(at.segment, parts.length - 1)];
  }

  // One tab stop: the item the keyboard is on.
  #rove(focus) {
    for (const parts of this.items) for (const part of parts) part.setAttribute("tabindex", "-1");
    const item = this.#item(this.at);
    item.setAttribute("tabindex", "0");
    if (focus) item.focus();
  }

  #key(event) {
    const last = this.days.length - 1;
    const { day, segment } = this.at;
    const moves = {
      ArrowLeft: () => this.#sameSubject(day, Math.max(0, day - 1), segment),
      ArrowRight: () => this.#sameSubject(day, Math.min(last, day + 1), segment),
      PageUp: () => this.#sameSubject(day, Math.max(0, day - 7), segment),
      PageDown: () => this.#sameSubject(day, Math.min(last, day + 7), segment),
      Home: () => ({ day: 0, segment: 0 }),
      End: () => ({ day: last, segment: 0 }),
      ArrowUp: () => ({ day, segment: Math.min(this.items[day].length - 1, segment + 1) }),
      ArrowDown: () => ({ day, segment: Math.max(0, segment - 1) }),
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    this.at = move();
    this.#rove(true);
  }

  // Moving across days stays on the same subject when the new day has it.
  #sameSubject(from, to, segment) {
    const series = this.days[from].segments[segment]?.series;
    const found = this.days[to].segments.findIndex((one) => one.series === series);
    return { day: to, segment: Math.max(0, found) };
  }

  #focused(target) {
    if (target.dataset.segment === undefined) return;
    // The latest of pointing and focusing is what the caption describes.
    this.hovered = null;
    this.at = { day: Number(target.dataset.day), segment: Number(target.dataset.segment) };
    this.#rove(false);
    this.#describe();
  }

  #pointed(target) {
    if (target.dataset?.day === undefined) return;
    const day = Number(target.dataset.day);
    const segment = target.dataset.segment === undefined ? null : Number(target.dataset.segment);
    if (this.hovered?.day === day && this.hovered?.segment === segment) return;
    this.hovered = { day, segment };
    this.#describe();
  }

  // The caption: the day under the pointer, else the one with focus, else the whole range.
  #describe() {
    const focused = this.svg?.contains(document.activeElement) ? this.at : null;
    const at = this.hovered ?? focused;
    for (const column of this.svg?.querySelectorAll(".chart-day.active") ?? []) {
      column.classList.remove("active");
    }
    if (!at) {
      this.caption.replaceChildren(this.#overview());
      return;
    }
    this.svg.querySelector(`.chart-day[data-day="${at.day}"]`)?.classList.add("active");
    const day = this.days[at.day];
    const line = [element("strong", "", day.label), `: ${formatDuration(day.seconds)}`];
    day.segments.forEach((segment, index) => {
      line.push(index ? ", " : " — ");
      const words = `${segmentName(segment)} ${formatDuration(segment.seconds)}`;
      line.push(index === at.segment ? element("span", "current", words) : words);
    });
    if (!day.segments.length) line.push(" — nothing tracked");
    this.caption.replaceChildren(...line);
  }

  #overview() {
    const { summary } = this;
    const first = formatCalendarDay(summary.from, { day: "numeric", month: "short" });
    const last = formatCalendarDay(summary.to, { day: "numeric", month: "short" });
    const weekly = Math.round(summary.total_seconds / (this.days.length / 7));
    return (
      `${formatDuration(summary.total_seconds)} tracked from ${first} to ${last}, ` +
      `${formatDuration(weekly)} a week on average.`
    );
  }
}
