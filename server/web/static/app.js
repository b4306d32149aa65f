// The page's behaviour: the live timer, the review of a clocked-out session, time added by
// hand, this week's plan, the eight-week chart, the history and recent sessions, all
// through the REST API. The server decides; this module shows what it answered, and shows
// its `detail` when it says no.

import { api, ApiError } from "./api.js";
import { addDays, mondayOf, todayIn, wallTimeOf } from "./calendar.js";
import { DayChart } from "./chart.js";
import { $, element } from "./dom.js";
import { entryBody, InputError } from "./entry.js";
import { formatDuration, formatStart, setBadge } from "./format.js";
import { renderHistory } from "./history.js";
import { renderRecent } from "./sessions.js";
import { setUpTeams } from "./teams.js";
import { isActive, isPaused, isRunning, needsReview } from "./status.js";
import { LiveTimer } from "./timer.js";
import { renderWeek } from "./week.js";

const state = {
  current: null,
  reviewing: null,
  recent: [],
  timeZone: document.querySelector('meta[name="timetrack-timezone"]')?.content || undefined,
  lastSync: 0,
  busy: false,
  // The Monday of the week the history shows.
  historyWeek: null,
};

const today = () => todayIn(state.timeZone);

// --- Notices -----------------------------------------------------------------------------

function showError(detail) {
  $("status").textContent = "";
  $("error").textContent = detail;
}

function showStatus(message) {
  $("error").textContent = "";
  $("status").textContent = message;
}

function describe(error) {
  if (error instanceof ApiError || error instanceof InputError) return error.message;
  return "Something went wrong on this page. Reload and try again.";
}

// Actions run one after another, in the order they were asked for, so a refresh started by
// one can never overwrite what a later one showed. A second click on a control whose action
// is still queued or in flight is ignored rather than sent twice. Buttons stay enabled so
// keyboard focus never falls back to the page.
let queue = Promise.resolve();
const pending = new Set();
const again = new Set();

// `coalesce`: asked for again while queued or running, the work runs once more afterwards
// instead of being dropped, because a refresh already under way may have read the server
// before the change that prompted the new request.
function act(key, work, { coalesce = false } = {}) {
  if (pending.has(key)) {
    if (coalesce) again.add(key);
    return queue;
  }
  pending.add(key);
  queue = queue.then(async () => {
    document.body.setAttribute("aria-busy", "true");
    try {
      await work();
    } catch (error) {
      showError(describe(error));
      // A conflict means the page's picture is stale (another tab, Discord, GitHub).
      if (error instanceof ApiError && (error.status === 409 || error.status === 404)) {
        await refresh().catch(() => {});
      }
    } finally {
      pending.delete(key);
      document.body.removeAttribute("aria-busy");
      if (again.delete(key)) act(key, work, { coalesce });
    }
  });
  return queue;
}

// --- Timer -------------------------------------------------------------------------------

const timer = new LiveTimer((text, session) => {
  $("clock").textContent = text;
  document.title = session ? `${text} · ${session.subject} · timetrack` : "timetrack";
});

function describeSession(target, session) {
  target.replaceChildren(element("span", "subject", session.subject));
  if (session.goal) target.append(` — ${session.goal}`);
  if (session.github_repo && session.github_issue_number) {
    const label = `${session.github_repo}#${session.github_issue_number}`;
    // The server stores only canonical github.com links; without one the issue is text.
    if (session.github_issue_url) {
      const link = element("a", "", label);
      link.href = session.github_issue_url;
      link.rel = "noopener noreferrer";
      target.append(" · ", link);
    } else {
      target.append(` · ${label}`);
    }
  }
}

function renderTimer() {
  const session = state.current;
  timer.show(session);
  setBadge($("timer-state"), session?.status);
  $("timer-what").hidden = !session;
  if (session) describeSession($("timer-what"), session);
  $("active-controls").hidden = !session;
  $("pause-button").hidden = !isRunning(session);
  $("resume-button").hidden = !isPaused(session);
  $("start-form").hidden = Boolean(session);
}

// --- Review ------------------------------------------------------------------------------

let reviewedId = null;

function renderReview() {
  const session = state.reviewing;
  $("review").hidden = !session;
  if (!session) {
    reviewedId = null;
    return;
  }
  setBadge($("review-state"), session.status);
  describeSession($("review-what"), session);
  $("review-measured").textContent = formatDuration(session.measured_seconds);
  $("review-paused").textContent = formatDuration(session.paused_seconds);
  $("review-effective").textContent = formatDuration(session.effective_seconds);
  const unconfirmed = needsReview(session);
  $("confirm-button").hidden = !unconfirmed;
  $("reopen-button").hidden = !unconfirmed;
  if (reviewedId !== session.id) {
    // Only when another session comes up, so a refresh never wipes what is being typed.
    $("purpose-input").value = session.goal ?? "";
    $("adjust-input").value = "";
    reviewedId = session.id;
  }
}

function review(session) {
  state.reviewing = session;
  renderReview();
  $("review-title").focus();
}

// --- Loading -----------------------------------------------------------------------------

async function loadCurrent() {
  state.current = await api.get("/api/timelogs/current/");
  renderTimer();
}

async function loadRecent() {
  const page = await api.get("/api/timelogs/?limit=10");
  state.recent = page.results;
  renderRecent(
    { list: $("recent-list"), empty: $("recent-empty") },
    state.recent,
    state.timeZone,
    {
      onConfirm: (session) => act(`confirm-${session.id}`, () => confirmFromList(session)),
      onReview: (session) => act(`review-${session.id}`, async () => review(session)),
    },
  );
}

function showWeek(report) {
  renderWeek(
    {
      range: $("week-range"),
      totals: $("week-totals"),
      rows: $("week-rows"),
      empty: $("week-empty"),
    },
    report,
    (subject, hours) => act(`plan-${subject}`, () => saveAllocation(subject, hours)),
    // The server-rendered limit, so every hours box on the page shares one maximum.
    $("allocation-hours").max,
  );
}

async function loadWeek() {
  showWeek(await api.get("/api/allocations/"));
}

async function loadSubjects() {
  const { results } = await api.get("/api/subjects/");
  $("subject-options").replaceChildren(
    ...results.map(({ name }) => {
      const option = element("option");
      option.value = name;
      return option;
    }),
  );
}

// The history may be asked for another week while one is loading; it shows the last asked.
async function loadHistory() {
  for (;;) {
    const monday = state.historyWeek;
    const range = `from=${monday}&to=${addDays(monday, 6)}`;
    const [byDay, bySubject] = await Promise.all([
      api.get(`/api/reports/summary?${range}&group_by=day`),
      api.get(`/api/reports/summary?${range}&group_by=subject`),
    ]);
    if (monday !== state.historyWeek) continue;
    renderHistory(
      {
        range: $("history-range"),
        total: $("history-total"),
        days: $("history-days"),
        subjects: $("history-subjects"),
        empty: $("history-empty"),
        csvDays: $("history-csv-days"),
        csvSubjects: $("history-csv-subjects"),
        next: $("history-next"),
        thisWeek: $("history-this-week"),
      },
      monday,
      byDay,
      bySubject,
      today(),
    );
    return;
  }
}

const chart = new DayChart({
  figure: $("chart"),
  caption: $("chart-caption"),
  legend: $("chart-legend"),
});

// Eight weeks: the 56 days that end today.
async function loadChart() {
  const last = today();
  chart.show(
    await api.get(`/api/reports/summary?from=${addDays(last, -55)}&to=${last}&group_by=day`),
  );
}

function syncReviewWithRecent() {
  const latest = state.recent[0];
  if (state.reviewing) {
    const fresh = state.recent.find((session) => session.id === state.reviewing.id);
    if (fresh) state.reviewing = fresh;
    if (isActive(state.reviewing)) state.reviewing = null;
  } else if (!state.current && needsReview(latest)) {
    state.reviewing = latest;
  }
  renderReview();
}

const loadTeams = setUpTeams({
  run: act,
  showStatus,
  userId: document.querySelector('meta[name="timetrack-user"]')?.content ?? "",
});

async function refresh() {
  // Alongside the rest, but not waited for: the timer and the week never wait on teams.
  loadTeams().catch((error) => showError(describe(error)));
  await Promise.all([
    loadCurrent(),
    loadRecent(),
    loadWeek(),
    loadSubjects(),
    loadHistory(),
    loadChart(),
  ]);
  syncReviewWithRecent();
  state.lastSync = Date.now();
}

async function refreshSide() {
  await Promise.all([loadRecent(), loadWeek(), loadSubjects(), loadHistory(), loadChart()]);
  syncReviewWithRecent();
}

// --- Actions -----------------------------------------------------------------------------

const timelog = (session, action) => `/api/timelogs/${session.id}/${action}/`;

async function start(event) {
  event.preventDefault();
  const subject = $("subject-input").value.trim();
  const goal = $("goal-input").value.trim();
  const issue = $("issue-input").value.trim();
  const body = { subject };
  if (goal) body.goal = goal;
  if (issue) body.github_issue_url = issue;
  state.current = await api.post("/api/timelogs/start/", body);
  renderTimer();
  $("goal-input").value = "";
  $("issue-input").value = "";
  showStatus(`Started ${state.current.subject}.`);
  $("pause-button").focus();
  await refreshSide();
}

async function pause() {
  state.current = await api.post(timelog(state.current, "pause"));
  renderTimer();
  showStatus("Paused. Resume when you are back.");
  $("resume-button").focus();
}

async function resume() {
  state.current = await api.post(timelog(state.current, "resume"));
  renderTimer();
  showStatus("Resumed.");
  $("pause-button").focus();
}

async function stop() {
  const ended = await api.post(timelog(state.current, "stop"));
  state.current = null;
  renderTimer();
  review(ended);
  showStatus(`Clocked out after ${formatDuration(ended.effective_seconds)}. Review it below.`);
  await refreshSide();
}

async function confirm() {
  state.reviewing = await api.post(timelog(state.reviewing, "confirm"));
  renderReview();
  showStatus(`Confirmed ${formatDuration(state.reviewing.effective_seconds)}.`);
  await refreshSide();
}

async function confirmFromList(session) {
  const confirmed = await api.post(timelog(session, "confirm"));
  if (state.reviewing?.id === confirmed.id) state.reviewing = confirmed;
  showStatus(`Confirmed ${confirmed.subject}: ${formatDuration(confirmed.effective_seconds)}.`);
  await refreshSide();
}

async function reopen() {
  state.current = await api.post(timelog(state.reviewing, "reopen"));
  state.reviewing = null;
  renderReview();
  renderTimer();
  showStatus("Reopened. The time since you clocked out counts as paused.");
  $("pause-button").focus();
  await refreshSide();
}

async function adjust(event) {
  event.preventDefault();
  const value = $("adjust-input").value.trim();
  state.reviewing = await api.patch(`/api/timelogs/${state.reviewing.id}/`, {
    effective_duration: value,
  });
  renderReview();
  $("adjust-input").value = "";
  showStatus(`Effective time set to ${formatDuration(state.reviewing.effective_seconds)}.`);
  await refreshSide();
}

async function editPurpose(event) {
  event.preventDefault();
  const goal = $("purpose-input").value.trim();
  state.reviewing = await api.patch(`/api/timelogs/${state.reviewing.id}/`, { goal });
  renderReview();
  showStatus(goal ? "Purpose saved." : "Purpose cleared.");
  await refreshSide();
}

async function addEntry(event) {
  event.preventDefault();
  const body = entryBody(
    {
      subject: $("entry-subject").value,
      day: $("entry-day").value,
      start: $("entry-start").value,
      end: $("entry-end").value,
      duration: $("entry-duration").value,
      goal: $("entry-goal").value,
    },
    state.timeZone,
  );
  const added = await api.post("/api/timelogs/", body);
  // Ready for the next piece of the day: it starts where this one ended.
  const ended = wallTimeOf(Date.parse(added.ended_at), state.timeZone);
  $("entry-day").value = ended.day;
  $("entry-start").value = ended.time;
  for (const id of ["entry-end", "entry-duration", "entry-goal"]) $(id).value = "";
  showStatus(
    `Added ${formatDuration(added.effective_seconds)} of ${added.subject} from ` +
      `${formatStart(added.started_at, state.timeZone)}.`,
  );
  await refreshSide();
}

function showWeekOf(monday) {
  state.historyWeek = monday;
  act("history", loadHistory);
}

// Back as far as you like; forward up to this week, since later weeks hold nothing yet.
function stepHistory(days) {
  const monday = addDays(state.historyWeek, days);
  if (monday <= mondayOf(today())) showWeekOf(monday);
}

async function saveAllocation(subject, hoursText) {
  const text = String(hoursText).trim();
  if (!text) {
    showError("Enter the hours to plan (0 removes the subject from the plan).");
    return;
  }
  const hours = Number(text);
  const report = await api.put(`/api/allocations/${encodeURIComponent(subject)}`, { hours });
  showWeek(report);
  showStatus(
    hours === 0
      ? `Removed ${subject} from this week's plan.`
      : `Planned ${formatDuration(Math.round(hours * 3600))} for ${subject} this week.`,
  );
}

async function addAllocation(event) {
  event.preventDefault();
  const subject = $("allocation-subject").value.trim();
  if (!subject) {
    showError("Name the subject to plan.");
    return;
  }
  await saveAllocation(subject, $("allocation-hours").value);
  if (!$("error").textContent) {
    $("allocation-subject").value = "";
    $("allocation-hours").value = "";
  }
}

async function saveTimezone(event) {
  event.preventDefault();
  const me = await api.patch("/api/me", { timezone: $("timezone-input").value.trim() });
  state.timeZone = me.timezone;
  $("timezone-input").value = me.timezone;
  $("entry-timezone").textContent = me.timezone;
  showStatus(`Timezone set to ${me.timezone}. Weeks now start on Monday there.`);
  await refreshSide();
}

function describeScheduled(me) {
  const reminders =
    me.remind_after_minutes === null
      ? "No reminders"
      : `A reminder after ${formatDuration(me.remind_after_minutes * 60)}`;
  const summary = me.weekly_summary ? "a weekly summary on Monday" : "no weekly summary";
  return `${reminders}, and ${summary}.`;
}

async function saveScheduled(event) {
  event.preventDefault();
  const input = $("remind-input");
  // A number field reads as empty when what was typed is no number; empty means "never",
  // so say so rather than turn reminders off.
  if (input.validity.badInput) {
    showError("Enter whole minutes, or leave it empty for no reminders.");
    return;
  }
  const typed = input.value.trim();
  const me = await api.patch("/api/me", {
    remind_after_minutes: typed === "" ? null : Number(typed),
    weekly_summary: $("summary-input").checked,
  });
  input.value = me.remind_after_minutes ?? "";
  $("summary-input").checked = me.weekly_summary;
  showStatus(describeScheduled(me));
}

// --- Wiring ------------------------------------------------------------------------------

function on(id, type, handler) {
  $(id).addEventListener(type, (event) => {
    if (type === "submit") event.preventDefault();
    act(id, () => handler(event));
  });
}

on("start-form", "submit", start);
on("pause-button", "click", pause);
on("resume-button", "click", resume);
on("stop-button", "click", stop);
on("confirm-button", "click", confirm);
on("reopen-button", "click", reopen);
on("adjust-form", "submit", adjust);
on("purpose-form", "submit", editPurpose);
on("allocation-form", "submit", addAllocation);
on("timezone-form", "submit", saveTimezone);
on("entry-form", "submit", addEntry);
$("history-previous").addEventListener("click", () => stepHistory(-7));
$("history-next").addEventListener("click", () => stepHistory(7));
$("history-this-week").addEventListener("click", () => {
  const monday = mondayOf(today());
  if (monday !== state.historyWeek) showWeekOf(monday);
});
on("scheduled-form", "submit", saveScheduled);
$("close-review-button").addEventListener("click", () => {
  state.reviewing = null;
  renderReview();
  $("timer-title").focus();
});

// Back from another tab or app: the session may have changed elsewhere, and timers in
// hidden tabs are throttled, so fetch the truth again.
function resync() {
  if (document.visibilityState !== "visible" || Date.now() - state.lastSync < 2000) return;
  act("resync", refresh, { coalesce: true });
}

document.addEventListener("visibilitychange", resync);
window.addEventListener("focus", resync);
setInterval(resync, 60_000);

$("timer-title").tabIndex = -1;
$("entry-day").value = today();
state.historyWeek = mondayOf(today());
act("resync", refresh);
