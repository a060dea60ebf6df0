import type { ResourceLink } from "@modelcontextprotocol/sdk/types.js";

/**
 * The result budget: the most characters a result's content (its text and the links' uri and
 * name, what a client renders) may take. Clients keep a tool result up to a size and cut or move
 * out the rest (Claude Code: about 25,000 tokens, with a warning past 10,000); rows cut by a client
 * are lost mid-line and silently. Rows past the budget are left out whole here instead, the text
 * says how many and how to print them, and structuredContent still carries every record.
 */
export class TextBudget {
  private used: number;

  /** `reserved`: room kept for what is written after the rows (the closing line). */
  constructor(
    readonly limit: number,
    reserved = 600,
  ) {
    this.used = reserved;
  }

  /** Counts `text` (plus its newline) and `link` in if they fit; false once the budget is spent. */
  take(text: string, link?: ResourceLink): boolean {
    const cost = text.length + 1 + (link ? link.uri.length + link.name.length : 0);
    if (this.used + cost > this.limit) {
      this.used = this.limit; // once a row is left out, so are the rows after it: no gaps
      return false;
    }
    this.used += cost;
    return true;
  }
}

/** The Zoho pages a list can be read by again: numbers up to record 2000, tokens past it. */
export type PageRef = { first: number } & ({ page: number } | { page_token: string });

/**
 * How to print the rows from record index `next` on (0-based, from the start of the list), in
 * calls that each print about `shown` rows: a page whose first record is `next` when one exists
 * (page × per_page stays within record 2000), else the page holding it and how many of its first
 * rows were printed already. Past record 2000 only the page_token of the page holding it works.
 * Emails pass a discrete limit of 0 and maxPerPage null: their pages are named by index only.
 */
export function continueAt(next: number, shown: number, pages: PageRef[] = [], discreteLimit = 2000, maxPerPage: number | null = 200): string {
  const size = Math.max(1, Math.min(maxPerPage ?? 200, shown));
  if (next < discreteLimit) {
    // The largest page size up to `size` that makes `next` the first record of a page.
    let exact = 1;
    for (let p = size; p >= 1; p--) {
      if (next % p === 0 && next + p <= discreteLimit) {
        exact = p;
        break;
      }
    }
    if (exact * 2 >= size) return `page=${next / exact + 1}, per_page=${exact}`;
    const page = Math.floor(next / size) + 1;
    if (page * size <= discreteLimit) return `page=${page}, per_page=${size}, whose first ${next % size} rows are printed already`;
    return `page=${next / exact + 1}, per_page=${exact}`;
  }
  const holder = [...pages].reverse().find((p) => p.first <= next && "page_token" in p);
  if (!holder || !("page_token" in holder)) return "";
  // maxPerPage null: a list whose pages have a fixed size (Emails), where per_page is not a parameter.
  return `page_token="${holder.page_token}"${maxPerPage === null ? "" : `, per_page=${maxPerPage}`}, whose first ${next - holder.first} rows are printed already`;
}
