// The conference pages, enhanced; each works without this script.
// - The secretary's form: Enter in the opinion box saves (Shift+Enter starts a new line).
// - The room's screen: polls its JSON state instead of reloading the whole page.
(function () {
  "use strict";

  var form = document.getElementById("opinion-form");
  if (form) {
    var box = form.querySelector("textarea");
    if (box) {
      box.addEventListener("keydown", function (event) {
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          if (form.requestSubmit) {
            form.requestSubmit();
          } else {
            form.submit();
          }
        }
      });
    }
  }

  var screen = document.querySelector("[data-state-url]");
  if (!screen) {
    return;
  }
  var url = screen.getAttribute("data-state-url");
  var seconds = parseInt(screen.getAttribute("data-refresh"), 10) || 3;
  var generalLabel = screen.getAttribute("data-general-label");
  var allLabel = screen.getAttribute("data-all-label");
  var last = null;

  function capitalised(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
  }

  function render(state) {
    var heading = document.getElementById("presenter-heading");
    if (state.focus === "clause") {
      heading.textContent = capitalised(state.clause_label);
    } else if (state.focus === "general") {
      heading.textContent = generalLabel;
    } else {
      heading.textContent = allLabel;
    }
    var clause = document.getElementById("presenter-clause");
    clause.replaceChildren();
    state.clause_lines.forEach(function (line) {
      var p = document.createElement("p");
      p.className = "presenter-line depth-" + Math.min(line.depth, 4);
      var strong = document.createElement("strong");
      strong.textContent = line.heading;
      p.appendChild(strong);
      p.appendChild(document.createTextNode(" " + line.text));
      clause.appendChild(p);
    });
    clause.hidden = state.clause_lines.length === 0;
    var list = document.getElementById("presenter-opinions");
    list.replaceChildren();
    state.opinions.forEach(function (opinion) {
      var li = document.createElement("li");
      var strong = document.createElement("strong");
      strong.textContent = opinion.speaker_name;
      li.appendChild(strong);
      var about = " (" + opinion.unit_name + ")";
      if (state.focus !== "clause" || opinion.clause_id !== state.clause_id) {
        about += " · " + (opinion.clause_id === null ? generalLabel : opinion.clause_label);
      }
      li.appendChild(document.createTextNode(about));
      li.appendChild(document.createElement("br"));
      li.appendChild(document.createTextNode(opinion.text));
      list.appendChild(li);
    });
    document.getElementById("presenter-count").textContent = String(state.opinions.length);
    document.getElementById("presenter-empty").hidden = state.opinions.length > 0;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (state) {
        if (state) {
          var key = JSON.stringify(state);
          if (key !== last) {
            last = key;
            render(state);
          }
        }
      })
      .catch(function () {
        // The network dropped for a moment: the next poll tries again.
      })
      .then(function () {
        window.setTimeout(poll, seconds * 1000);
      });
  }

  window.setTimeout(poll, seconds * 1000);
})();
