// Maestro dashboard: vanilla JS modules, no dependencies, no build step.
//
// Every panel loads on its own: a failing endpoint shows its error in its own panel
// and never blanks the others. Panels refresh every 5 s (while the tab is visible)
// and on "Refresh now".
import { ApiError, api, clearKey, describe, getKey, setKey } from "./api.js";
import { panelLoaders } from "./panels.js";

const REFRESH_MS = 5000;
const loaders = panelLoaders(load);
let rejectedKey = false;
let inFlight = null;

async function load(id) {
  const root = document.getElementById(id);
  const body = root.querySelector(".body");
  const error = root.querySelector(".error");
  try {
    const content = await loaders[id]();
    body.replaceChildren(...[content].flat());
    error.hidden = true;
    error.textContent = "";
    root.removeAttribute("data-error");
  } catch (err) {
    const text = describe(err);
    if (error.textContent !== text) error.textContent = text;  // re-announce only a new error
    error.hidden = false;
    root.setAttribute("data-error", err instanceof ApiError ? String(err.status) : "js");
    if (err instanceof ApiError && (err.status === 401 || err.code === "no_key")) {
      body.replaceChildren();  // never leave another key's numbers on screen
      if (err.status === 401) rejectedKey = true;
    }
  }
}

function setStatus(text, bad) {
  const status = document.getElementById("key-status");
  status.textContent = text;
  status.classList.toggle("bad", Boolean(bad));
}

async function refreshAll({ skipIfBusy = false } = {}) {
  if (inFlight) {
    if (skipIfBusy) return inFlight;
    await inFlight;  // an explicit refresh (new key, button) must use the current key
    if (inFlight) return inFlight;
  }
  rejectedKey = false;
  inFlight = Promise.allSettled(Object.keys(loaders).map(load)).then(() => {
    document.getElementById("updated").textContent =
      "updated " + new Date().toISOString().slice(11, 19) + " UTC";
    if (rejectedKey) setStatus("The API rejected this key (401): check it or enter another one.", true);
    else if (!getKey()) setStatus("No API key: only health is shown. Enter a workspace key (mk_...).");
    inFlight = null;
  });
  return inFlight;
}

async function showWorkspace() {
  try {
    const ws = await api("/api/workspace");
    setStatus(`Connected to workspace “${ws.name}” (${ws.id}).`);
  } catch (err) {
    setStatus("Key not accepted: " + describe(err), true);
  }
}

async function connect(event) {
  event.preventDefault();
  const input = document.getElementById("api-key");
  const key = input.value.trim();
  if (!key) {
    setStatus("Enter an API key first.", true);
    return;
  }
  setKey(key);
  input.value = "";
  await showWorkspace();
  await refreshAll();
}

function forget() {
  clearKey();
  setStatus("");
  refreshAll();
}

function start() {
  document.getElementById("key-form").addEventListener("submit", connect);
  document.getElementById("forget-key").addEventListener("click", forget);
  document.getElementById("refresh").addEventListener("click", () => refreshAll());
  document.getElementById("include-archived")
    .addEventListener("change", () => load("panel-patterns"));
  setInterval(() => {
    if (document.getElementById("auto-refresh").checked && !document.hidden) {
      refreshAll({ skipIfBusy: true });
    }
  }, REFRESH_MS);
  (getKey() ? showWorkspace() : Promise.resolve()).then(() => refreshAll());
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
