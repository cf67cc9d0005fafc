import type { AuditEntry } from '../../store/audit.js';
import type { PendingToken } from '../../store/one-time-tokens.js';
import { PERMISSIONS, type Person } from '../../store/people.js';
import { html, type Html } from '../html.js';
import { relative } from './format.js';
import { auditTable } from './history.js';
import { csrfField, type PageContext } from './layout.js';

/** Said wherever an invite is made on an OoD nobody can log into but through one-time links. */
export const NO_PROVIDER_WARNING =
  'No login provider is set up (web.providers in ood.yaml), so nobody can log in through an invite link: its page has no login button. ' +
  'Make a one-time login link for the person instead (below), or add a provider first.';

const PERMISSION_WORDS = { start: 'start', stop: 'stop', console: "console (the game's log and commands)", admin: 'admin (everything, and this page)' } as const;

function permissionBoxes(prefix: string, checked: readonly string[]): Html {
  return html`<fieldset class="permissions"><legend>May</legend>${PERMISSIONS.map(
    (p) => html`<label><input type="checkbox" name="permissions" value="${p}"${checked.includes(p) ? html` checked` : ''} id="${prefix}-${p}"> ${PERMISSION_WORDS[p]}</label>`,
  )}</fieldset>`;
}

/** The admin page: people and what they may do, invitations, Minecraft names, the audit log. */
export function adminBody(
  page: PageContext,
  o: {
    people: readonly Person[];
    invites: readonly PendingToken[];
    audit: { entries: readonly AuditEntry[]; refusedLogins: number };
    newInvite: string | undefined;
    newLoginLink?: { link: string; name: string } | undefined;
    notice: string | undefined;
    now: number;
    /** The login providers' labels; none means an invite link has no way in. */
    providers: readonly string[];
  },
): Html {
  const noProvider = o.providers.length === 0;
  return html`<h1>People</h1>
${o.notice ? html`<p class="notice" role="status">${o.notice}</p>` : ''}
${o.newInvite
  ? html`<div class="notice" role="status"><p>Invite link (works once; shown only now):</p><p class="link-line"><code id="invite-link">${o.newInvite}</code> <button type="button" class="copy" data-copy="${o.newInvite}" hidden>Copy</button></p>
${noProvider ? html`<p class="warning">${NO_PROVIDER_WARNING}</p>` : ''}</div>`
  : ''}
${o.newLoginLink
  ? html`<div class="notice" role="status"><p>One-time login link for ${o.newLoginLink.name} (works once; shown only now):</p><p class="link-line"><code id="login-link">${o.newLoginLink.link}</code> <button type="button" class="copy" data-copy="${o.newLoginLink.link}" hidden>Copy</button></p>
<p>When it has been used, or has expired, make another here: each works once.</p></div>`
  : ''}
<section aria-labelledby="people-title">
<h2 id="people-title">Who may do what</h2>
<div class="table-wrap"><table class="rows-on-phone">
<caption class="visually-hidden">People</caption>
<thead><tr><th scope="col">Person</th><th scope="col">May</th><th scope="col">Minecraft name</th><th scope="col">Last login</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${o.people.map((p) => personRow(page, p, o.now))}</tbody>
</table></div>
</section>
<section aria-labelledby="add-title">
<h2 id="add-title">Add someone</h2>
<form method="post" action="/admin/people" class="stack">${csrfField(page)}
<label for="add-identity">Identity (provider:id, as they see it on the page that turned them away)</label>
<input id="add-identity" name="identity" required placeholder="github:583231" autocomplete="off">
${permissionBoxes('add', ['start'])}
<button type="submit" class="button primary">Add</button>
</form>
${noProvider ? loginLinkForm(page) : ''}
<h2>${noProvider ? 'Or invite with a link (needs a login provider)' : 'Or invite with a link'}</h2>
${noProvider ? html`<p class="warning">${NO_PROVIDER_WARNING}</p>` : html`<p>They log in with ${o.providers.join(' or ')} and are added at once.</p>`}
<form method="post" action="/admin/invites" class="stack">${csrfField(page)}
${permissionBoxes('invite', ['start'])}
<label for="invite-ttl">Valid for</label>
${ttlSelect('invite-ttl')}
<button type="submit" class="button secondary">Make an invite link</button>
</form>
${o.invites.length
  ? html`<h3>Open invites</h3><ul class="invites">${o.invites.map(
      (i) => html`<li>${i.payload.split(',').join(', ')}, made by ${i.createdBy}, expires ${relative(i.expiresAt, o.now)}
      <form method="post" action="/admin/invites/revoke" class="inline">${csrfField(page)}<input type="hidden" name="hash" value="${i.hash}"><button type="submit" class="link">Withdraw</button></form></li>`,
    )}</ul>`
  : ''}
</section>
<section aria-labelledby="audit-title">
<h2 id="audit-title">Audit log</h2>
${o.audit.entries.length ? auditTable(o.audit.entries, true) : html`<p>Nothing yet.</p>`}
${o.audit.refusedLogins ? html`<p>${o.audit.refusedLogins} logins by people not on the list in the last 7 days (not shown).</p>` : ''}
</section>`;
}

const ttlSelect = (id: string) =>
  html`<select id="${id}" name="ttl"><option value="1h">1 hour</option><option value="1d" selected>1 day</option><option value="7d">7 days</option></select>`;

/** Without a provider, the way in for someone new: a one-time login link made for them by name. */
function loginLinkForm(page: PageContext): Html {
  return html`<h2>Or give someone a one-time login link</h2>
<p>They are added as <code>local:&lt;name&gt;</code> and log in once with the link; when their login ends, make them another.</p>
<form method="post" action="/admin/login-links" class="stack">${csrfField(page)}
<label for="link-name">Name (letters, digits, . - _)</label>
<input id="link-name" name="name" required pattern="[A-Za-z0-9_.\-]{1,32}" autocomplete="off">
${permissionBoxes('link', ['start'])}
<label for="link-ttl">Valid for</label>
${ttlSelect('link-ttl')}
<button type="submit" class="button primary">Make a login link</button>
</form>`;
}

function personRow(page: PageContext, p: Person, now: number): Html {
  const self = page.person?.identity === p.identity;
  return html`<tr>
<th scope="row">${p.avatar ? html`<img class="avatar" src="${p.avatar}" alt="" width="24" height="24" referrerpolicy="no-referrer"> ` : ''}${p.name ?? (p.lastLogin ? '(no name given)' : '(not logged in yet)')}<br><code>${p.identity}</code></th>
<td data-label="May">${p.permissions.join(', ') || 'nothing'}</td>
<td data-label="Minecraft name"><form method="post" action="/admin/people/minecraft" class="inline-field">${csrfField(page)}<input type="hidden" name="identity" value="${p.identity}">
<label class="visually-hidden" for="mc-${p.identity}">Minecraft name of ${p.name ?? p.identity}</label>
<input id="mc-${p.identity}" name="minecraftName" value="${p.minecraftName ?? ''}" pattern="[A-Za-z0-9_]{1,16}" size="12" autocomplete="off"><button type="submit" class="link">Save</button></form></td>
<td data-label="Last login">${p.lastLogin ? relative(p.lastLogin, now) : 'never'}</td>
<td>${self ? '' : html`<form method="post" action="/admin/people/remove" class="inline">${csrfField(page)}<input type="hidden" name="identity" value="${p.identity}"><button type="submit" class="link danger">Remove</button></form>`}</td>
</tr>`;
}
