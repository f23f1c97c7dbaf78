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
  source.addEventListener("run", (message) => {
    const event = JSON.parse(message.data);
    const row = table.querySelector('tr[data-id="' + event.submission + '"]');
    if (!row) { return; }
    set(row, "state", event.state);
    if (event.state === "done") {
      set(row, "verdict", event.verdict, "v-" + event.verdict);
      set(row, "score", event.score.toFixed(1) + " / " + event.max_score);
      const metric = event.metric || {};
      set(row, "metric", metric.value === null || metric.value === undefined
        ? "" : metric.name + " " + metric.value.toFixed(4));
      set(row, "time", event.wall_s.toFixed(2) + " s");
      set(row, "memory", Math.round(event.peak_mb) + " MiB");
      set(row, "message", event.message || "");
    } else if (event.state === "error") {
      set(row, "verdict", "failed");
      set(row, "message", "judging failed; this is not your fault and is not charged");
    }
  });
})();
