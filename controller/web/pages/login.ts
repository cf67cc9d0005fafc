import { html, type Html } from '../html.js';
import { csrfField, type PageContext } from './layout.js';

export interface LoginChoice {
  name: string;
  label: string;
  /** Where the button starts this provider's login (`/connect/<grant key>`). */
  href: string;
}

export function loginBody(providers: readonly LoginChoice[], notice: string | undefined): Html {
  return html`<div class="narrow">
<h1>Log in</h1>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${providers.length
  ? html`<p>Log in with an account you already have:</p>
<ul class="providers">${providers.map((p) => html`<li><a class="button provider provider-${p.name}" href="${p.href}">Log in with ${p.label}</a></li>`)}</ul>`
  : html`<p>No login provider is set up yet. The person who runs OoD logs in with the one-time link <code>ood serve</code> printed, then adds a provider in <code>ood.yaml</code> (<code>web.providers</code>).</p>`}
</div>`;
}

/** A one-time link asks for a press first, so a link preview or prefetch cannot use it up. */
export function oneTimeBody(page: PageContext, token: string): Html {
  return html`<div class="narrow">
<h1>Log in as the first admin</h1>
<p>This link works once and only for a few minutes.</p>
<form method="post" action="/login/once">${csrfField(page)}<input type="hidden" name="token" value="${token}"><button type="submit" class="button primary">Log in</button></form>
</div>`;
}

export function inviteBody(providers: readonly LoginChoice[], permissions: string): Html {
  return html`<div class="narrow">
<h1>You are invited</h1>
<p>Log in to join; you will be able to ${permissions}.</p>
<ul class="providers">${providers.map((p) => html`<li><a class="button provider provider-${p.name}" href="${p.href}">Log in with ${p.label}</a></li>`)}</ul>
</div>`;
}
