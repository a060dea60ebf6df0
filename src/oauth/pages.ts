import { createHash } from "node:crypto";

/**
 * The two pages the authorization server shows a person: the consent page (which client asks, what
 * it will read, Allow or Deny) and an error page for the few failures that cannot be sent back to
 * the client. No script at all; the one style sheet is allowed by its hash in the CSP.
 */

const STYLE = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1c1e21}
main{max-width:30rem;margin:3rem auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;box-shadow:0 1px 3px #0003}
h1{font-size:1.3rem;margin:0 0 1rem}
ul{padding-left:1.2rem}
.where{color:#555;font-size:.9rem;word-break:break-all}
.buttons{display:flex;gap:1rem;margin-top:1.5rem}
button{font:inherit;padding:.6rem 1.4rem;border-radius:6px;border:1px solid #888;background:#fff;cursor:pointer}
button[value=allow]{background:#1a5fb4;border-color:#1a5fb4;color:#fff}
button:focus-visible{outline:3px solid #f5c211;outline-offset:2px}
`.trim();

const STYLE_HASH = createHash("sha256").update(STYLE).digest("base64");

/** Headers for every page: no framing (clickjacking), no script, nothing cached, no referrer. */
export const PAGE_HEADERS: Record<string, string> = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy": `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'`,
  "x-frame-options": "DENY",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-content-type-options": "nosniff",
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>
`;
}

/**
 * Characters that are letters or marks to Unicode but draw nothing: the Hangul fillers (U+115F,
 * U+1160, U+3164, U+FFA0), the braille blank (U+2800) and the combining grapheme joiner (U+034F).
 * Kept, they make two names that look the same differ, or pad a name with blank space.
 */
const INVISIBLE = /[\u034f\u115f\u1160\u3164\uffa0\u2800]/gu;

/**
 * A client's name as a person may see it: no control or format characters (bidi overrides such as
 * U+202E turn "moc.elgoog" into "google.com" on screen; zero-width ones hide a difference), no
 * invisible letters, no enclosing marks and at most two combining marks on a character (more stack
 * over the lines around it, onto the page's own words), runs of spaces folded, at most `max`
 * characters.
 */
export function displayName(name: string, max = 100): string {
  // Decomposed while marks are counted (é is e and a mark), composed again for the page.
  const text = name
    .normalize("NFD")
    .replace(/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/gu, "")
    .replace(INVISIBLE, "")
    .replace(/\p{Me}/gu, "")
    .replace(/(\p{Mn}{2})\p{Mn}+/gu, "$1")
    .replace(/\s+/g, " ")
    .trim()
    // A leading mark would sit on whatever the page puts before the name (its opening quote).
    .replace(/^\p{M}+/u, "")
    .normalize("NFC");
  return Array.from(text).slice(0, max).join("");
}

/**
 * A registered client's name in quotes: typographic ones, with any double quote inside the name
 * made a single one, so a name cannot close the quote and go on as the page's own words
 * (`Foo" verified by "Zoho`).
 */
function quoted(name: string): string {
  return `\u201c${name.replace(/["\u201c\u201d\u201e\u201f\u2033\u3003\uff02]/g, "'")}\u201d`;
}

export interface ConsentView {
  /** The client's self-declared name (or its client_id host when it gave none): shown, never trusted. */
  clientName: string;
  /**
   * For a client named by a metadata document URL: that URL's host, which (unlike the name) it
   * cannot choose freely. Without it the name is one any stranger could register, and the page says so.
   */
  clientHost?: string;
  /** Where the answer goes: the redirect URI's origin, so a person can spot an impostor. */
  redirectTarget: string;
  /** The sealed request, posted back with the choice; bound to this browser by a cookie. */
  request: string;
  action: string;
}

export function consentPage(view: ConsentView): string {
  const clientName = displayName(view.clientName);
  // A registered client's name is its own claim: quoted and marked, so "Claude (claude.ai)" typed
  // by a stranger never looks like the host-vouched name of a metadata-document client.
  const plain = !view.clientHost ? quoted(clientName) : clientName === view.clientHost ? clientName : `${clientName} (${view.clientHost})`;
  const name = escapeHtml(plain);
  const origin = view.clientHost
    ? `<p class="where">Named by its client metadata document at ${escapeHtml(view.clientHost)}.</p>`
    : `<p class="where">${escapeHtml(quoted(clientName))} is the name this client gave itself when it registered; this server has not verified it.</p>`;
  return page(
    `Allow ${plain} to read your Zoho CRM?`,
    `<h1>Allow <strong>${name}</strong> to read your Zoho CRM?</h1>
${origin}
<p><strong>${name}</strong> asks to use the Zoho CRM related records server as you. If you allow it, you sign in with Zoho next, and it can then <strong>read</strong>, with your Zoho permissions:</p>
<ul>
<li>records of your CRM and the records related to them (notes, contacts, deals, activities, ...)</li>
<li>the names of your modules, fields and related lists</li>
</ul>
<p>It cannot create, change or delete anything.</p>
<p class="where">After your answer you go back to: ${escapeHtml(view.redirectTarget)}</p>
<form method="post" action="${escapeHtml(view.action)}">
<input type="hidden" name="request" value="${escapeHtml(view.request)}">
<div class="buttons">
<button type="submit" name="choice" value="allow">Allow</button>
<button type="submit" name="choice" value="deny">Deny</button>
</div>
</form>
<p class="where">Only allow clients you started yourself. Deny if you did not expect this page.</p>`,
  );
}

export function errorPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}
