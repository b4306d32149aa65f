// Recent sessions, newest first; the ones waiting for review stand out and carry actions.

import { element } from "./dom.js";
import { formatDuration, formatStart, setBadge } from "./format.js";
import { isEnded, needsReview } from "./status.js";

function actionButton(label, session, className, handler) {
  const button = element("button", className, label);
  button.type = "button";
  button.append(element("span", "visually-hidden", ` ${session.subject} session ${session.id}`));
  button.addEventListener("click", () => handler(session, button));
  return button;
}

function item(session, timeZone, handlers) {
  const unconfirmed = needsReview(session);
  const row = element("li", unconfirmed ? "recent-item unconfirmed" : "recent-item");
  row.dataset.sessionId = String(session.id);

  const head = element("div", "recent-head");
  const badge = element("span");
  setBadge(badge, session.status);
  head.append(
    badge,
    element("span", "subject", session.subject),
    element("span", "effective", formatDuration(session.effective_seconds)),
  );

  const meta = element("div", "recent-meta");
  const started = element("time", "", formatStart(session.started_at, timeZone));
  started.dateTime = session.started_at;
  meta.append(started);
  if (session.goal) meta.append(` · ${session.goal}`);
  if (session.effective_override_seconds !== null) meta.append(" · adjusted");

  row.append(head, meta);
  if (isEnded(session)) {
    const actions = element("div", "actions");
    if (unconfirmed) {
      actions.append(actionButton("Confirm", session, "small primary", handlers.onConfirm));
    }
    actions.append(
      actionButton(unconfirmed ? "Review" : "Edit", session, "small", handlers.onReview),
    );
    row.append(actions);
  }
  return row;
}

export function renderRecent(parts, sessions, timeZone, handlers) {
  parts.list.replaceChildren(...sessions.map((session) => item(session, timeZone, handlers)));
  parts.empty.hidden = sessions.length > 0;
}
