// Refreshes the public board every few seconds from the API, without reloading the page.
(function () {
  "use strict";
  const holder = document.getElementById("live-board");
  if (!holder) return;
  const name = holder.dataset.round;
  const text = (value) => document.createTextNode(value);
  const refresh = () => {
    fetch("/api/v1/rounds/" + encodeURIComponent(name) + "/scoreboard", {
      headers: { Accept: "application/json" },
    })
      .then((response) => response.json())
      .then((data) => {
        const body = holder.querySelector("tbody");
        const slugs = Array.from(holder.querySelectorAll("thead th.cell")).map(
          (th) => th.title.split(" ")[0]);
        body.replaceChildren(...data.public.rows.map((row) => {
          const tr = document.createElement("tr");
          const cells = [[row.rank, "rank"], [row.contestant, "who"], [row.total.toFixed(1), "total"]];
          for (const [value, cls] of cells) {
            const td = document.createElement("td");
            td.className = cls;
            td.appendChild(text(String(value)));
            tr.appendChild(td);
          }
          for (const slug of slugs) {
            const cell = row.cells[slug];
            const td = document.createElement("td");
            td.className = "cell v-" + cell.verdict;
            const parts = Object.entries(cell.parts || {});
            td.title = cell.verdict + ", " + cell.submissions + " file(s)" +
              parts.map(([part, points]) => "; " + part + " " + points).join("");
            td.appendChild(text(cell.submissions ? cell.points.toFixed(1) : ""));
            tr.appendChild(td);
          }
          return tr;
        }));
        const state = document.getElementById("board-state");
        if (state) {
          state.textContent = data.frozen_since
            ? "Frozen: files submitted later are not on the public board." : "Live.";
        }
      })
      .catch(() => {});
  };
  setInterval(refresh, 3000);
})();
