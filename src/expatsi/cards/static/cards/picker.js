/* expatsi: searchable pickers on the card application form (cards/_picker.html).
 *
 * Without this file the picker is a search box, a "Find" button that sends the form back with the
 * matches, and a select of those matches. With it the box becomes an ARIA 1.2 combobox: matches
 * are asked of the server as one types (debounced, the answer to an older query dropped), listed
 * in a listbox, chosen with the arrow keys and Enter (Escape closes, then clears), and announced
 * in a live region ("3 matches"). The select stays, hidden, as what the form sends.
 */
(function () {
  "use strict";
  var DELAY = 250;

  function minLength(text) {
    // As people/search.py: two letters in Latin script, one character in Chinese.
    return /^[\x00-\x7f]*$/.test(text) ? 2 : 1;
  }

  function enhance(root) {
    var name = root.getAttribute("data-picker");
    var url = root.getAttribute("data-picker-url");
    var select = root.querySelector("select[data-picker-select]");
    var input = root.querySelector("input[type=search]");
    var list = root.querySelector("[role=listbox]");
    var status = root.querySelector("[role=status]");
    var find = root.querySelector("[data-picker-find]");
    if (!name || !url || !select || !input || !list || !status) { return; }
    var timer = null;
    var controller = null;
    var active = -1;
    var chosenText = "";

    // The box is now the control: the select is sent but not shown, "Find" is not needed, and
    // the box's own text is not sent (the choice is the select's value).
    if (find) { find.remove(); }
    input.removeAttribute("name");
    select.hidden = true;
    select.tabIndex = -1;
    var label = root.querySelector("label[for='" + select.id + "']");
    if (label) { label.htmlFor = input.id; }
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    if (select.getAttribute("aria-invalid") === "true") { input.setAttribute("aria-invalid", "true"); }
    if (select.value) {
      chosenText = select.options[select.selectedIndex].text;
      input.value = chosenText;
    }

    function options() { return list.querySelectorAll("[role=option]"); }

    function open() {
      if (options().length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
    }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      setActive(-1);
    }

    function setActive(index) {
      var all = options();
      all.forEach(function (o) { o.setAttribute("aria-selected", "false"); });
      active = index;
      if (index < 0 || index >= all.length) {
        active = -1;
        input.removeAttribute("aria-activedescendant");
        return;
      }
      var option = all[index];
      option.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }

    function choose(option) {
      var value = option.getAttribute("data-value");
      var text = option.textContent;
      var existing = Array.prototype.find.call(select.options, function (o) { return o.value === value; });
      if (!existing) { select.add(new Option(text, value)); }
      select.value = value;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      chosenText = text;
      input.value = text;
      close();
      status.textContent = (root.getAttribute("data-picker-chosen") || "") + " " + text;
    }

    function params(query) {
      var p = new URLSearchParams();
      p.set("q", query);
      if (name === "person") {
        var employer = document.querySelector("select[data-picker-select=employer]");
        if (employer && employer.value) { p.set("employer", employer.value); }
      }
      return p.toString();
    }

    function search() {
      window.clearTimeout(timer);
      var query = input.value.trim();
      if (controller) { controller.abort(); controller = null; }
      if (query.length < minLength(query) || query === chosenText) {
        list.replaceChildren();
        close();
        return;
      }
      controller = new AbortController();
      var mine = controller;
      fetch(url + "?" + params(query), {
        signal: mine.signal,
        credentials: "same-origin",
        headers: { "Accept": "text/html" }
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) {
        if (mine !== controller) { return; }  // an older query answered late
        var answer = new DOMParser().parseFromString(html, "text/html").querySelector("ul");
        var found = answer ? Array.prototype.slice.call(answer.children) : [];
        list.replaceChildren.apply(list, found.map(function (n) { return document.importNode(n, true); }));
        status.textContent = answer ? answer.getAttribute("data-status") || "" : "";
        setActive(-1);
        if (found.length) { open(); } else { close(); }
      }).catch(function (error) {
        if (error && error.name === "AbortError") { return; }
        status.textContent = root.getAttribute("data-picker-failed") || "";
      });
    }

    input.addEventListener("input", function () {
      if (select.value && input.value !== chosenText) {
        select.value = "";  // the text no longer names the choice: nothing is chosen
        chosenText = "";
      }
      window.clearTimeout(timer);
      timer = window.setTimeout(search, DELAY);
    });

    input.addEventListener("keydown", function (event) {
      var count = options().length;
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (list.hidden) { open(); }
          if (count) { setActive(active + 1 >= count ? 0 : active + 1); } else { search(); }
          break;
        case "ArrowUp":
          event.preventDefault();
          if (list.hidden) { open(); }
          if (count) { setActive(active <= 0 ? count - 1 : active - 1); }
          break;
        case "Enter":
          // Never sends the form from the box: Enter chooses, or searches now.
          event.preventDefault();
          if (!list.hidden && active >= 0) { choose(options()[active]); } else { search(); }
          break;
        case "Escape":
          if (!list.hidden) {
            event.preventDefault();
            close();
          } else if (input.value) {
            event.preventDefault();
            input.value = "";
            select.value = "";
            chosenText = "";
            status.textContent = "";
          }
          break;
        case "Tab":
          close();
          break;
        default:
          break;
      }
    });

    // A click chooses; mousedown is kept from taking the focus from the box.
    list.addEventListener("mousedown", function (event) { event.preventDefault(); });
    list.addEventListener("click", function (event) {
      var option = event.target.closest("[role=option]");
      if (option) { choose(option); input.focus(); }
    });
    input.addEventListener("blur", function () { close(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-picker]").forEach(enhance);
  });
})();
