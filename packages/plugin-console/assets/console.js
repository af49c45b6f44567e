// RGZ console: progress for long actions. A form with data-long shows a live status while the server works
// (the page stays usable); an element with data-poll asks the console for a run's state until it is finished.
(() => {
  document.addEventListener('submit', (e) => {
    var f = e.target;
    if (typeof f.hasAttribute !== 'function' || !f.hasAttribute('data-long')) return;
    var s = f.querySelector('[data-progress]');
    if (s) s.hidden = false;
    var b = f.querySelector('button[type=submit]');
    if (b)
      setTimeout(() => {
        b.disabled = true;
      }, 0);
  });
  var p = document.querySelector('[data-poll]');
  if (!p) return;
  var url = p.getAttribute('data-poll');
  var tick = () => {
    fetch(url, { credentials: 'same-origin' })
      .then((r) => r.json())
      .then((j) => {
        p.querySelector('[data-state]').textContent = j.label;
        if (j.finished) {
          if (p.hasAttribute('data-reload')) location.reload();
        } else setTimeout(tick, 2000);
      })
      .catch(() => {
        setTimeout(tick, 4000);
      });
  };
  setTimeout(tick, 1500);
})();
