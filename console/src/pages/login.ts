/** The login form: the admin key goes to /ui/api/login once and is cleared from the page at once. */
import { ApiError, login } from "../api";
import { h } from "../dom";

export function loginPage(root: HTMLElement, onLoggedIn: () => void): void {
  const key = h("input", { id: "admin-key", type: "password", required: true, autocomplete: "current-password", spellcheck: "false" });
  const error = h("p", { class: "error", role: "alert", id: "login-error" });
  const submit = h("button", { type: "submit", class: "primary" }, "Log in");
  const form = h(
    "form",
    { class: "card login", id: "login-form" },
    h("h1", {}, "Log in"),
    h("p", { class: "muted" }, "Use the gateway's admin key (auth.adminKey). It is sent once to start a session and is never stored in the browser."),
    h("label", { class: "field" }, h("span", {}, "Admin key"), key),
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    const value = key.value;
    key.value = "";
    try {
      await login(value);
      onLoggedIn();
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) error.textContent = `Too many failed attempts from this address.${err.retryAfter ? ` Try again in ${err.retryAfter} s.` : ""}`;
      else if (err instanceof ApiError && err.status === 401) error.textContent = "Wrong admin key.";
      else error.textContent = err instanceof Error ? err.message : String(err);
      key.focus();
    } finally {
      submit.disabled = false;
    }
  });
  root.append(form);
  key.focus();
}
