// Prints the structure tree of a PDF as pdf.js reads it, page by page:
// one line per element ("  ROLE", indented by depth) and one line per
// element's text ("  \"TEXT\""), the text of its marked content in order.
// Usage: node struct.mjs FILE.pdf
import { readFile } from "node:fs/promises";
import { getDocument } from "./node_modules/pdfjs-dist/legacy/build/pdf.mjs";

const data = new Uint8Array(await readFile(process.argv[2]));
const doc = await getDocument({ data, verbosity: 0, isEvalSupported: false }).promise;
const out = [];
for (let p = 1; p <= doc.numPages; p++) {
  const page = await doc.getPage(p);
  const tc = await page.getTextContent({ includeMarkedContent: true });
  const text = new Map();
  const stack = [];
  for (const it of tc.items) {
    if (it.type === "beginMarkedContentProps" || it.type === "beginMarkedContent") {
      stack.push(it.id || null);
    } else if (it.type === "endMarkedContent") {
      stack.pop();
    } else if (typeof it.str === "string") {
      const id = stack.length ? stack[stack.length - 1] : null;
      if (id) text.set(id, (text.get(id) || "") + it.str + (it.hasEOL ? "\n" : ""));
    }
  }
  const walk = (node, depth) => {
    if (!node) return;
    if (node.type === "content") {
      const s = text.get(node.id);
      if (s !== undefined) out.push(" ".repeat(depth) + JSON.stringify(s));
      return;
    }
    if (node.role) out.push(" ".repeat(depth) + node.role);
    for (const c of node.children || []) walk(c, depth + 1);
  };
  walk(await page.getStructTree(), 0);
}
console.log(out.join("\n"));
