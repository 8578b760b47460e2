/// The dashboard's stylesheet and script, compiled into the binary (no CDN, nothing fetched).
enum DashboardAssets {
    static let css = """
        body { font: 15px/1.4 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
        header.top { display: flex; gap: 1.2em; align-items: center; padding: .6em 1.2em; background: #1d2330; color: #fff; }
        header.top a { color: #fff; }
        header.top .who { margin-left: auto; }
        header.top form { display: inline; }
        main { padding: 1em 1.5em; }
        a:focus, button:focus, input:focus, select:focus, textarea:focus { outline: 3px solid #f5a623; outline-offset: 2px; }
        table { border-collapse: collapse; background: #fff; width: 100%; }
        th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #dde1e7; vertical-align: top; }
        .notice { background: #fff7d6; border: 1px solid #e8d48a; padding: .5em .8em; margin-bottom: 1em; }
        .error-box { background: #fde8e8; border: 1px solid #e0a0a0; padding: .5em .8em; }
        .state { font-weight: 600; white-space: nowrap; }
        .state-complete, .state-resolved_manually { color: #17663a; }
        .state-error { color: #a31515; }
        .state-in_progress, .state-enqueued { color: #0b5cad; }
        .state-cancelled { color: #555; }
        .panel { background: #fff; border: 1px solid #dde1e7; padding: .8em 1em; margin: 1em 0; }
        .actions form { display: inline-block; vertical-align: top; margin-right: 2em; }
        pre { background: #f0f2f5; padding: .5em; overflow: auto; max-height: 20em; }
        .dag-wrap { overflow: auto; background: #fff; border: 1px solid #dde1e7; padding: .5em; }
        svg.dag .edge { fill: none; stroke: #7a8394; stroke-width: 1.5; }
        svg.dag .arrowhead { fill: #7a8394; }
        svg.dag .shape, svg.dag .shape-inner { fill: #fff; stroke: #4a5160; stroke-width: 2; }
        svg.dag .shape-inner { fill: none; }
        svg.dag .strike { stroke: #555; stroke-width: 2; }
        svg.dag text { font: 12px system-ui, sans-serif; fill: #1d2330; }
        svg.dag .node-name { font-weight: 700; }
        svg.dag .st-complete .shape, svg.dag .st-resolved_manually .shape { fill: #dff3e6; stroke: #17663a; }
        svg.dag .st-error .shape, svg.dag .st-waiting_for_retry .shape { fill: #fde8e8; stroke: #a31515; }
        svg.dag .st-in_progress .shape, svg.dag .st-enqueued .shape { fill: #e3efff; stroke: #0b5cad; }
        svg.dag .st-cancelled .shape { fill: #eee; }
        svg.dag .selected .shape { stroke-width: 4; }
        svg.dag a:focus .shape { stroke: #f5a623; stroke-width: 4; }
        label { display: block; margin: .4em 0 .2em; }
        textarea { width: 100%; max-width: 40em; font-family: monospace; }
        .filters { display: flex; gap: 1em; align-items: end; flex-wrap: wrap; margin-bottom: 1em; }
        .filters label { margin: 0; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: 0 0 .8em; }
        dt { font-weight: 600; } dd { margin: 0; }
        form.inline { display: inline; }
        .bulk { background: #fff; border: 1px solid #dde1e7; padding: .5em .8em; }
        .columns { display: flex; gap: 1em; flex-wrap: wrap; align-items: flex-start; }
        .columns > .panel { flex: 1 1 22em; margin-top: 0; }
        .updated, .hint { color: #555; font-size: 90%; margin: 0 0 .5em; }
        .chart-wrap { overflow: auto; }
        svg.throughput .column { fill: transparent; }
        svg.throughput .minute:hover .column { fill: #eef1f5; }
        svg.throughput .completed { fill: #2e8b57; }
        svg.throughput .failed { fill: #a31515; }
        svg.throughput .retried { stroke: #a31515; stroke-width: 1; }
        svg.throughput .hatch { stroke: #a31515; stroke-width: 2; }
        svg.throughput .axis { stroke: #4a5160; stroke-width: 1; }
        svg.throughput .tick { font: 11px system-ui, sans-serif; fill: #4a5160; }
        .outcome[data-status="applied"] { color: #17663a; font-weight: 600; }
        .outcome[data-status="refused"], .outcome[data-status="not_found"], .outcome[data-status="invalid"] { color: #a31515; font-weight: 600; }
        """

    /// Polls `live` (a JSON endpoint) while the task runs and swaps in the new DAG and state,
    /// without reloading the page; refreshes the overview in place (`#overview`, every
    /// `data-refresh-seconds`); "select all" in the tasks list. With JS off, a `<meta refresh>`
    /// in a `<noscript>` reloads the live pages instead.
    static let js = """
        (function () {
          document.documentElement.setAttribute('data-js', 'on');
          var selectAll = document.getElementById('select-all');
          if (selectAll) selectAll.addEventListener('change', function () {
            var boxes = document.querySelectorAll('input.select-task');
            for (var i = 0; i < boxes.length; i++) boxes[i].checked = selectAll.checked;
          });
          var overview = document.getElementById('overview');
          if (overview) {
            var every = 1000 * parseInt(overview.getAttribute('data-refresh-seconds') || '5', 10);
            var refresh = function () {
              fetch(window.location.href, { credentials: 'same-origin' })
                .then(function (r) { return r.ok ? r.text() : null; })
                .then(function (html) {
                  var fresh = html && new DOMParser().parseFromString(html, 'text/html').getElementById('overview');
                  var open = overview.querySelector('details[open]') !== null;
                  if (fresh) overview.innerHTML = fresh.innerHTML;
                  if (open) { var d = overview.querySelector('details'); if (d) d.open = true; }
                  setTimeout(refresh, every);
                })
                .catch(function () { setTimeout(refresh, every); });
            };
            setTimeout(refresh, every);
          }
          var root = document.getElementById('live');
          if (!root) return;
          var url = root.getAttribute('data-live-url');
          function tick() {
            fetch(url, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
              .then(function (r) { return r.ok ? r.json() : null; })
              .then(function (data) {
                if (!data) { setTimeout(tick, 4000); return; }
                document.getElementById('dag').innerHTML = data.dag;
                var state = document.getElementById('task-state');
                state.textContent = data.state_label;
                state.className = 'state state-' + data.state;
                state.setAttribute('data-state', data.state);
                document.getElementById('task-updated').textContent = data.updated_at;
                document.getElementById('task-steps').textContent = data.steps_summary;
                document.getElementById('task-completed').textContent = data.completed_at;
                if (!data.finished) { setTimeout(tick, 1500); return; }
                // Finished: the task's audit trail has new entries; take them from the page.
                fetch(window.location.href, { credentials: 'same-origin' })
                  .then(function (r) { return r.ok ? r.text() : null; })
                  .then(function (html) {
                    if (!html) return;
                    var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('task-audit-trail');
                    var trail = document.getElementById('task-audit-trail');
                    if (fresh && trail) trail.innerHTML = fresh.innerHTML;
                  })
                  .catch(function () {});
                // Finished: the buttons for a running task no longer apply.
                var stale = document.querySelectorAll('[data-while-running]');
                for (var i = 0; i < stale.length; i++) stale[i].parentNode.removeChild(stale[i]);
              })
              .catch(function () { setTimeout(tick, 4000); });
          }
          if (root.getAttribute('data-finished') !== 'true') setTimeout(tick, 1500);
        })();
        """
}
