// Follows /events (server-sent events) and updates the submissions table in place.
(function () {
  "use strict";
  const table = document.getElementById("submissions");
  if (!table || !window.EventSource) return;
  const after = table.dataset.after || "0";
  const source = new EventSource("/events?after=" + encodeURIComponent(after));
  const set = (row, name, text, cls) => {
    const cell = row.querySelector("." + name);
    if (!cell) return;
    cell.textContent = text;
    if (cls !== undefined) cell.className = name + " " + cls;
  };
  // The event says a run moved; what the contestant may see of it (in a round: the
  // public part only) comes from the API, the one place that decides.
  const show = (row, found) => {
    set(row, "state", found.state);
    const r = found.result;
    if (r) {
      set(row, "verdict", r.verdict, "v-" + r.verdict);
      set(row, "score", r.score.toFixed(1) + " / " + r.max_score);
      set(row, "parts", (r.parts || []).map(
        (part) => part.id + " " + part.points + "/" + part.max_points).join(" · "));
      const metric = r.metric || {};
      set(row, "metric", metric.value === null || metric.value === undefined
        ? "" : metric.name + " " + metric.value.toFixed(4));
      set(row, "time", r.wall_s.toFixed(2) + " s");
      set(row, "memory", Math.round(r.peak_mb) + " MiB");
      set(row, "message", r.message || "");
    } else if (found.error) {
      set(row, "verdict", "failed");
      set(row, "message", found.error);
    }
  };
  source.addEventListener("run", (message) => {
    const event = JSON.parse(message.data);
    const row = table.querySelector('tr[data-id="' + event.submission + '"]');
    if (!row) { return; }
    set(row, "state", event.state);
    if (event.state === "done" || event.state === "error") {
      fetch("/api/v1/submissions/" + event.submission, { headers: { Accept: "application/json" } })
        .then((response) => response.json())
        .then((found) => show(row, found));
    }
  });
})();
