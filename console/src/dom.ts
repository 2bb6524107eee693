/** Building DOM nodes without innerHTML: text is always text, so nothing a key name holds can run. */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(name.replace(/^on/, ""), value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: (SVGElement | null)[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children) if (child) el.appendChild(child);
  return el;
}

/** A table with a caption and header cells; rows are arrays of cells. */
export function table(caption: string, headers: string[], rows: (Child | HTMLTableCellElement)[][], options: { numeric?: number[]; id?: string } = {}): HTMLElement {
  const numeric = new Set(options.numeric ?? []);
  const head = h("tr", {}, headers.map((text, i) => h("th", { scope: "col", class: numeric.has(i) ? "num" : null }, text)));
  const body = rows.map((cells) => h("tr", {}, cells.map((cell, i) => (cell instanceof HTMLTableCellElement ? cell : h("td", { class: numeric.has(i) ? "num" : null }, cell)))));
  const empty = rows.length === 0 ? h("tr", {}, h("td", { colspan: headers.length, class: "muted" }, "Nothing to show yet.")) : null;
  return h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption }, h("table", { id: options.id }, h("caption", {}, caption), h("thead", {}, head), h("tbody", {}, body, empty)));
}

export interface DialogButton {
  label: string;
  value: string;
  primary?: boolean;
  danger?: boolean;
  /** Runs on click; the dialog closes when it resolves, and shows the error when it throws. */
  action?: () => Promise<void>;
}

/** A modal dialog (the native <dialog>, focus kept inside, Escape cancels): resolves with the button's value when it closes. */
export function dialog(title: string, content: Node[], buttons: DialogButton[]): { el: HTMLDialogElement; closed: Promise<string> } {
  const error = h("p", { class: "error", role: "alert" });
  const el = h("dialog", { "aria-label": title });
  const actions = buttons.map((b) => {
    // A plain button closes the dialog (Cancel): it must not wait for the form's required fields.
    const button = h("button", { type: b.action ? "button" : "submit", formnovalidate: !b.action, value: b.value, class: b.danger ? "danger" : b.primary ? "primary" : null }, b.label);
    const action = b.action;
    if (action) {
      button.addEventListener("click", async () => {
        button.disabled = true;
        error.textContent = "";
        try {
          await action();
          el.close(b.value);
        } catch (err) {
          error.textContent = err instanceof Error ? err.message : String(err);
        } finally {
          button.disabled = false;
        }
      });
    }
    return button;
  });
  const form = h("form", { method: "dialog" }, h("h2", {}, title), content, error, h("div", { class: "actions" }, actions));
  // Enter in a field submits the form with its first submit button, Cancel: run the dialog's own
  // action instead, as a keyboard user expects (Escape still cancels).
  const main = actions.find((_, i) => buttons[i].action !== undefined);
  form.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.isComposing || main === undefined || !(event.target instanceof HTMLInputElement)) return;
    event.preventDefault();
    if (!main.disabled) main.click();
  });
  el.append(form);
  document.body.appendChild(el);
  const closed = new Promise<string>((resolve) =>
    el.addEventListener("close", () => {
      resolve(el.returnValue);
      el.remove();
    }),
  );
  el.showModal();
  return { el, closed };
}

/** A labelled form field. */
export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("small", { class: "muted" }, hint) : null);
}

/** Saves text as a file through the browser (CSV export). */
export function download(filename: string, text: string, type = "text/csv;charset=utf-8"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
