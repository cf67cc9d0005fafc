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

/**
 * A one-time link asks for a press first, so a link preview or prefetch cannot use it up. `as` is whom
 * it logs in: the admin at the machine (`ood serve`, `ood login-link`) or a person an admin made it for.
 */
export function oneTimeBody(page: PageContext, token: string, as: { identity: string; name: string | null }): Html {
  const who = as.identity === 'local:admin' ? 'the first admin' : as.name ?? as.identity.replace(/^local:/, '');
  return html`<div class="narrow">
<h1>Log in as ${who}</h1>
<p>This link works once, until it expires (a link from <code>ood serve</code> or <code>ood login-link</code> after 10 minutes); pressing the button uses it.</p>
<form method="post" action="/login/once">${csrfField(page)}<input type="hidden" name="token" value="${token}"><button type="submit" class="button primary">Log in</button></form>
</div>`;
}

/** An invitation: the providers to log in with, or, with none set up, what to ask the admins for instead. */
export function inviteBody(providers: readonly LoginChoice[], permissions: string, admins: readonly string[] = []): Html {
  const whom = admins.length ? `${admins.length === 1 ? 'the admin' : 'one of the admins'}, ${admins.join(', ')},` : 'the person who sent it';
  return html`<div class="narrow">
<h1>You are invited</h1>
${providers.length
  ? html`<p>Log in to join; you will be able to ${permissions}.</p>
<ul class="providers">${providers.map((p) => html`<li><a class="button provider provider-${p.name}" href="${p.href}">Log in with ${p.label}</a></li>`)}</ul>`
  : html`<p>You are invited to ${permissions}, but this OoD has no login provider set up yet, so this link cannot log you in.</p>
<p>Ask ${whom} for a one-time login link instead (they make one on the People page), or to add a login provider and send this link again.</p>`}
</div>`;
}
