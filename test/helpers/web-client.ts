import type { Serving } from '../../controller/cli/serve.js';

/**
 * A browser-like HTTP client for the web pages: keeps the session cookie, follows no redirects (tests
 * look at them), and reads the CSRF token from the last page it saw.
 */
export class WebClient {
  cookie = '';
  csrf = '';

  constructor(readonly url: string) {}

  async request(method: string, path: string, o: { form?: Record<string, string | string[]>; headers?: Record<string, string>; csrf?: boolean } = {}) {
    const headers: Record<string, string> = { accept: 'text/html', ...o.headers };
    if (this.cookie) headers.cookie = this.cookie;
    let body: string | undefined;
    if (o.form) {
      const params = new URLSearchParams();
      if (o.csrf !== false && this.csrf) params.append('_csrf', this.csrf);
      for (const [key, value] of Object.entries(o.form)) for (const v of [value].flat()) params.append(key, v);
      body = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(this.url + path, { method, headers, redirect: 'manual', ...(body === undefined ? {} : { body }) });
    for (const set of res.headers.getSetCookie()) this.keep(set);
    const text = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    return { status: res.status, text, headers: res.headers, location: res.headers.get('location') };
  }

  get = (path: string, headers?: Record<string, string>) => this.request('GET', path, headers ? { headers } : {});
  post = (path: string, form: Record<string, string | string[]> = {}, o: { csrf?: boolean; headers?: Record<string, string> } = {}) => this.request('POST', path, { form, ...o });

  private keep(setCookie: string): void {
    const [pair] = setCookie.split(';');
    const [name] = pair!.split('=');
    const rest = this.cookie.split('; ').filter((c) => c && !c.startsWith(`${name}=`));
    // An emptied cookie is a deleted one.
    if (!/^[^=]+=$/.test(pair!)) rest.push(pair!);
    this.cookie = rest.join('; ');
  }
}

/**
 * Logs in as `identity` through a one-time link made for it (the mechanism `ood serve` uses for the
 * first admin), the way a browser would: open the link, press the button.
 */
export async function loginAs(serving: Serving, identity: string): Promise<WebClient> {
  const token = serving.controller.store.tokens.create('login', identity, 'test', Date.now(), 60_000);
  const client = new WebClient(serving.url);
  const page = await client.get(`/login/once?token=${token}`);
  if (page.status !== 200) throw new Error(`the one-time link page answered ${page.status}: ${page.text.slice(0, 200)}`);
  const done = await client.post('/login/once', { token });
  if (done.status !== 302 || done.location !== '/') throw new Error(`logging in as ${identity} answered ${done.status} → ${done.location}`);
  // The CSRF token changes at login: read the new one from a page.
  await client.get('/login');
  await client.get('/');
  return client;
}
