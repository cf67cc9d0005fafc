import { html, type Html } from '../html.js';
import { csrfField, type PageContext } from './layout.js';

/** The page for an error: what went wrong, in words, and a way on. */
export function errorBody(status: number, message: string): Html {
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status === 429 ? 'Too many requests' : status >= 500 ? 'Something went wrong' : 'That did not work';
  return html`<div class="narrow">
<h1>${title}</h1>
<p class="error-message">${message}</p>
<p><a href="/">Back to the servers</a></p>
</div>`;
}

/** Someone who logged in but is not on the list: who they are, and whom to ask. */
export function notListedBody(page: PageContext, identity: string, name: string | null, admins: readonly string[]): Html {
  return html`<div class="narrow">
<h1>Not on the list</h1>
<p>You are logged in as <strong>${name ?? identity}</strong> (<code>${identity}</code>), but this OoD does not know you yet.</p>
${admins.length
  ? html`<p>Ask ${admins.length === 1 ? 'its admin' : 'one of its admins'}, ${admins.join(', ')}, to add <code>${identity}</code> or to send you an invite link.</p>`
  : html`<p>Ask the person who runs this OoD to add <code>${identity}</code>.</p>`}
<form method="post" action="/logout" class="inline">${csrfField(page)}<button type="submit" class="button secondary">Log out</button></form>
</div>`;
}
