// The Teams card: the chosen team's week (members ranked, and a chart of each day by
// member), and for its owners and admins, invitations and membership. Everything goes
// through the REST API; the server decides who may see and change what.

import { api, ApiError } from "./api.js";
import { addDays, mondayOf, todayIn } from "./calendar.js";
import { DayChart } from "./chart.js";
import { $, element } from "./dom.js";
import { formatDuration } from "./format.js";

const MANAGERS = new Set(["owner", "admin"]);

function rankedRow(group, most) {
  const item = element("li", "week-row");
  const head = element("div", "week-row-head");
  head.append(
    element("span", "name", group.label),
    element("span", "figures", formatDuration(group.seconds)),
  );
  const track = element("div", "bar");
  track.setAttribute("aria-hidden", "true");
  const fill = element("div", "bar-fill");
  // CSSOM, not a style attribute: the page's Content-Security-Policy allows only this.
  fill.style.width = `${((group.seconds / most) * 100).toFixed(1)}%`;
  track.append(fill);
  item.append(head, track);
  return item;
}

// The chart stacks each day's `subjects`; for a team, those are its members.
function byMember(report) {
  return {
    ...report,
    groups: report.groups.map((group) => ({
      ...group,
      subjects: (group.members ?? []).map((m) => ({ subject: m.name, seconds: m.seconds })),
    })),
  };
}

export function setUpTeams({ run: act, showStatus, userId }) {
  // A team that is gone, or a role that changed elsewhere: show the teams as they are now,
  // then let the page report the error.
  const run = (key, work) =>
    act(key, async () => {
      try {
        await work();
      } catch (error) {
        if (error instanceof ApiError && (error.status === 403 || error.status === 404)) {
          await loadTeams().catch(() => {});
        }
        throw error;
      }
    });
  const chart = new DayChart({
    figure: $("team-chart"),
    caption: $("team-chart-caption"),
    legend: $("team-chart-legend"),
    title: "team-chart-title",
    help: "team-chart-help",
    other: "Other members",
  });
  const state = { teams: [], chosen: null };

  function renderMembers(team) {
    const admin = MANAGERS.has(team.role);
    $("team-members").replaceChildren(
      ...team.members.map((member) => {
        const item = element("li", "team-member");
        item.append(element("span", "name", member.name), element("span", "muted", ` ${member.role}`));
        const self = member.user_id === userId;
        if (self || (admin && member.role !== "owner")) {
          const button = element("button", "small link", self ? "Leave" : "Remove");
          button.type = "button";
          button.append(element("span", "visually-hidden", self ? ` ${team.name}` : ` ${member.name}`));
          button.addEventListener("click", () =>
            run(`remove-${member.user_id}`, async () => {
              await api.delete(`/api/teams/${team.id}/members/${encodeURIComponent(member.user_id)}`);
              showStatus(self ? `You left ${team.name}.` : `Removed ${member.name}.`);
              await loadTeams();
            }),
          );
          item.append(button);
        }
        return item;
      }),
    );
    $("team-admin").hidden = !admin;
    $("team-invite-url").value = "";
  }

  async function showTeam(id) {
    const team = await api.get(`/api/teams/${id}/`);
    const monday = mondayOf(todayIn(team.timezone));
    const range = `from=${monday}&to=${addDays(monday, 6)}`;
    const [ranked, days] = await Promise.all([
      api.get(`/api/teams/${id}/report?${range}&group_by=member`),
      api.get(`/api/teams/${id}/report?${range}&group_by=day`),
    ]);
    state.chosen = team;
    $("team-view").hidden = false;
    $("team-total").textContent = `${team.name}: ${formatDuration(ranked.total_seconds)} this week`;
    const most = Math.max(1, ...ranked.groups.map((group) => group.seconds));
    $("team-ranking").replaceChildren(...ranked.groups.map((group) => rankedRow(group, most)));
    $("team-empty").hidden = ranked.groups.length > 0;
    chart.show(byMember(days));
    renderMembers(team);
  }

  async function loadTeams() {
    state.teams = (await api.get("/api/teams/")).results;
    const select = $("team-select");
    const keep = state.teams.find((team) => team.id === state.chosen?.id) ?? state.teams[0];
    select.replaceChildren(
      ...state.teams.map((team) => {
        const option = element("option", "", `${team.name} (${team.role})`);
        option.value = String(team.id);
        return option;
      }),
    );
    $("team-picker").hidden = state.teams.length === 0;
    $("teams-none").hidden = state.teams.length > 0;
    if (!keep) {
      state.chosen = null;
      $("team-view").hidden = true;
      return;
    }
    select.value = String(keep.id);
    await showTeam(keep.id);
  }

  $("team-select").addEventListener("change", (event) =>
    run("team-select", () => showTeam(event.target.value)),
  );
  $("team-create-form").addEventListener("submit", (event) => {
    event.preventDefault();
    run("team-create", async () => {
      const input = $("team-name");
      const team = await api.post("/api/teams/", { name: input.value });
      input.value = "";
      state.chosen = team;
      showStatus(`Created ${team.name}; you are its owner.`);
      await loadTeams();
    });
  });
  $("team-invite-button").addEventListener("click", () =>
    run("team-invite", async () => {
      const invite = await api.post(`/api/teams/${state.chosen.id}/invites/`);
      $("team-invite-url").value = invite.url;
      $("team-invite-url").select();
      showStatus("Invitation ready: it works once, for seven days.");
    }),
  );
  const joining = $("team-join");
  if (joining) {
    joining.addEventListener("submit", (event) => {
      event.preventDefault();
      run("team-join", async () => {
        const team = await api.post(`/api/teams/join/${encodeURIComponent(joining.dataset.token)}`);
        joining.remove();
        history.replaceState(null, "", "/");
        state.chosen = team;
        showStatus(`You joined ${team.name}. It sees your tracked time, never your goals or notes.`);
        await loadTeams();
      });
    });
  }
  return loadTeams;
}
