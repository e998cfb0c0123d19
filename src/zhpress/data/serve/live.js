// zhpress preview: a bar with the page's neighbours and the build's state; reloads the page when a new
// build of its edition is published (server-sent events from /_zhpress/events). Works in XHTML and HTML.
(function () {
  "use strict";
  var script = document.currentScript;
  var profile = script.getAttribute("data-profile");
  var generation = Number(script.getAttribute("data-generation"));
  var NS = "http://www.w3.org/1999/xhtml";

  function make(tag, className, text) {
    var element = document.createElementNS(NS, tag);
    if (className) element.setAttribute("class", className);
    if (text) element.textContent = text;
    return element;
  }
  function link(href, text, rel) {
    var a = make("a", "zhpress-link", text);
    a.setAttribute("href", href);
    if (rel) a.setAttribute("rel", rel);
    return a;
  }

  document.documentElement.classList.add("zhpress-preview");
  if (!document.querySelector("link[href='/_zhpress/live.css']")) {
    var css = make("link");
    css.setAttribute("rel", "stylesheet");
    css.setAttribute("href", "/_zhpress/live.css");
    (document.head || document.documentElement).appendChild(css);
  }
  var bar = make("div", "zhpress-bar");
  bar.setAttribute("id", "zhpress-bar");
  bar.appendChild(link("/", "目录 contents"));
  if (script.getAttribute("data-prev")) bar.appendChild(link(script.getAttribute("data-prev"), "← 上一页", "prev"));
  if (script.getAttribute("data-next")) bar.appendChild(link(script.getAttribute("data-next"), "下一页 →", "next"));
  var status = make("span", "zhpress-status", "");
  status.setAttribute("id", "zhpress-status");
  status.setAttribute("role", "status");
  bar.appendChild(status);
  var error = make("div", "zhpress-error");
  error.setAttribute("id", "zhpress-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  document.body.insertBefore(error, document.body.firstChild);
  document.body.insertBefore(bar, document.body.firstChild);

  function show(state) {
    status.textContent = state.building ? "正在构建… building" : (state.error ? "" : "✓ 已更新 up to date");
    error.hidden = !state.error;
    error.textContent = state.error ? "构建失败 build failed: " + state.error : "";
  }

  var source = new EventSource("/_zhpress/events");
  source.addEventListener("state", function (event) {
    var state = JSON.parse(event.data);
    var now = profile ? (state.generations[profile] || 0) : state.generation;
    if (now !== generation) {
      source.close();
      window.location.reload();
      return;
    }
    show(state);
  });
  source.onerror = function () {
    status.textContent = "与预览服务器断开 disconnected from the preview server";
  };
})();
