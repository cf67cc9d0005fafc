import type { StackUpdate } from '../../drivers/driver.js';
import type { AuditEntry } from '../../store/audit.js';
import type { JournalEntry } from '../../store/journal.js';
import { html, type Html } from '../html.js';
import { iso } from './format.js';

const when = (ms: number) => html`<time datetime="${iso(ms)}">${iso(ms).replace('T', ' ').slice(0, 19)} UTC</time>`;

/** What the page knows of the stack's history: its updates (null without a stack), still loading, or why it could not be read. */
export interface StackView {
  stack: readonly StackUpdate[] | null;
  loading: boolean;
  error: string | null;
}

/** A server's history: OoD's journal, who asked for what, and the Pulumi stack's updates when it has a stack. */
export function historyBody(server: string, journal: readonly JournalEntry[], audit: readonly AuditEntry[], { stack, loading, error: stackError }: StackView): Html {
  return html`<h1>History of ${server}</h1>
<p><a href="/">Back to the servers</a></p>
<section aria-labelledby="audit-title">
<h2 id="audit-title">Who asked for what</h2>
${audit.length === 0 ? html`<p>Nobody has asked for anything yet.</p>` : auditTable(audit, false)}
</section>
${stack !== null || stackError !== null || loading
  ? html`<section aria-labelledby="stack-title">
<h2 id="stack-title">Pulumi stack updates</h2>
${stackError ? html`<p class="error">Could not read the stack history: ${stackError}</p>` : ''}
${loading ? html`<p role="status">The stack history is loading (Pulumi takes a few seconds to read it); <a href="/servers/${server}">reload</a> in a moment.</p>` : ''}
${stack && stack.length > 0
  ? html`<div class="table-wrap"><table><caption class="visually-hidden">Stack updates, newest first</caption>
<thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">Result</th><th scope="col">Started</th><th scope="col">Message</th></tr></thead>
<tbody>${stack.map((u) => html`<tr><td>${u.version}</td><td>${u.kind}</td><td>${u.result}</td><td>${when(Date.parse(u.startTime))}</td><td>${u.message}</td></tr>`)}</tbody></table></div>`
  : stack ? html`<p>No updates yet.</p>` : ''}
</section>`
  : ''}
<section aria-labelledby="journal-title">
<h2 id="journal-title">Journal</h2>
${journal.length === 0
  ? html`<p>Nothing has happened yet.</p>`
  : html`<div class="table-wrap"><table><caption class="visually-hidden">Steps, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Phase</th><th scope="col">Step</th><th scope="col">Outcome</th><th scope="col">Detail</th></tr></thead>
<tbody>${[...journal].reverse().map((e) => html`<tr class="outcome-${e.outcome ?? 'pending'}"><td>${when(e.intentAt)}</td><td>${e.phase}</td><td>${e.step}</td><td>${e.outcome ?? 'in progress'}</td><td>${e.error ?? e.detail ?? ''}</td></tr>`)}</tbody></table></div>`}
</section>`;
}

export function auditTable(audit: readonly AuditEntry[], withServer: boolean): Html {
  return html`<div class="table-wrap"><table><caption class="visually-hidden">Requests, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Who</th>${withServer ? html`<th scope="col">Server</th>` : ''}<th scope="col">What</th><th scope="col">From</th></tr></thead>
<tbody>${audit.map((a) => html`<tr><td>${when(a.at)}</td><td>${a.actor}</td>${withServer ? html`<td>${a.server ?? ''}</td>` : ''}<td>${a.action}${a.detail ? `: ${a.detail}` : ''}</td><td>${a.source}</td></tr>`)}</tbody></table></div>`;
}
