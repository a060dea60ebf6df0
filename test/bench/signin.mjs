// What a person and an MCP client do to sign in to `--http --oauth` against the demo CRM's accounts
// server, in plain fetch: register, /authorize, our consent page (Allow), the demo sign-in (a user),
// Zoho's redirect back to our callback, then /token. Returns the access token. For the benchmark,
// which runs as plain JavaScript (the tests use test/oauth-raw.ts and test/oauth-helpers.ts).
import { createHash, randomBytes } from "node:crypto";

const REDIRECT = "http://127.0.0.1:53682/callback";

export async function signIn(origin, user = "patricia") {
  const jar = new Map();
  const visit = async (url, form) => {
    const host = new URL(url).host;
    const cookie = [...jar].filter(([k]) => k.startsWith(`${host} `)).map(([k, v]) => `${k.slice(host.length + 1)}=${v}`).join("; ");
    const response = await fetch(url, {
      method: form ? "POST" : "GET",
      redirect: "manual",
      ...(form ? { body: new URLSearchParams(form) } : {}),
      headers: cookie ? { cookie } : {},
    });
    for (const line of response.headers.getSetCookie()) {
      const [name, ...rest] = line.split(";")[0].split("=");
      jar.set(`${host} ${name}`, rest.join("="));
    }
    return response;
  };
  const formOf = (html, base) => {
    const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1] ?? "";
    const fields = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], unescape(m[2])]));
    return { action: new URL(unescape(action), base).href, fields };
  };

  const registered = await fetch(`${origin}/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ redirect_uris: [REDIRECT], client_name: "bench", token_endpoint_auth_method: "none" }),
  });
  const { client_id: clientId } = await registered.json();
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const authorize = `${origin}/authorize?${new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: "S256", resource: `${origin}/mcp` })}`;
  const consent = formOf(await (await visit(authorize)).text(), authorize);
  const toZoho = (await visit(consent.action, { ...consent.fields, choice: "allow" })).headers.get("location");
  const zohoForm = formOf(await (await visit(toZoho)).text(), toZoho);
  const callback = (await visit(zohoForm.action, { ...zohoForm.fields, user })).headers.get("location");
  const back = new URL((await visit(callback)).headers.get("location"));
  const code = back.searchParams.get("code");
  if (!code) throw new Error(`sign-in ended without a code: ${back.href}`);
  const token = await fetch(`${origin}/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "authorization_code", client_id: clientId, code, code_verifier: verifier, redirect_uri: REDIRECT, resource: `${origin}/mcp` }),
  });
  const tokens = await token.json();
  if (!tokens.access_token) throw new Error(`token: ${JSON.stringify(tokens)}`);
  return tokens.access_token;
}

function unescape(text) {
  return text.replace(/&#(\d+);/g, (_m, code) => String.fromCharCode(Number(code)));
}
