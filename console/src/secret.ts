/** Shows a new key's secret once, with a copy button: the gateway keeps only its digest. */
import { dialog, h } from "./dom";

async function copy(input: HTMLInputElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(input.value);
    return true;
  } catch {
    // No clipboard API off a secure context: select and copy the old way.
    input.select();
    return document.execCommand("copy");
  }
}

export async function showSecretOnce(title: string, name: string, secret: string): Promise<void> {
  const input = h("input", { id: "secret-value", type: "text", readonly: true, value: secret, "aria-label": `Secret of ${name}`, spellcheck: "false", autocomplete: "off" });
  const status = h("span", { role: "status", class: "muted" });
  const button = h("button", { type: "button", id: "secret-copy" }, "Copy");
  button.addEventListener("click", async () => {
    status.textContent = (await copy(input)) ? "Copied." : "Copy failed: select the text and copy it.";
  });
  const { closed } = dialog(title, [h("p", {}, h("strong", {}, "This is the only time the secret is shown."), ` Store it now; the gateway keeps only its digest.`), h("div", { class: "row" }, input, button), status], [{ label: "Done, I stored it", value: "done", primary: true }]);
  await closed;
  input.value = "";
}
