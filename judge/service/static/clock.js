// Counts down the time left in a running round.
(function () {
  "use strict";
  const clock = document.getElementById("clock");
  if (!clock || clock.dataset.state !== "running" || !clock.dataset.ends) return;
  const ends = new Date(clock.dataset.ends).getTime();
  const left = clock.querySelector(".left");
  const tick = () => {
    const seconds = Math.max(0, Math.round((ends - Date.now()) / 1000));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    left.textContent = (h ? h + " h " : "") + m + " min " + String(s).padStart(2, "0") + " s left";
  };
  tick();
  setInterval(tick, 1000);
})();
