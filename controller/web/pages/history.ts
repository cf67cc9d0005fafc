import type { StackUpdate } from '../../drivers/driver.js';
import type { AuditEntry } from '../../store/audit.js';
import { sessionWords, type SessionJson } from '../../api/session-json.js';
import type { journalJson } from '../../api/journal-json.js';
import { html, type Html } from '../html.js';
import { iso } from './format.js';

type JournalJson = ReturnType<typeof journalJson>;

const when = (ms: number) => html`<time datetime="${iso(ms)}">${iso(ms).replace('T', ' ').slice(0, 19)} UTC</time>`;

/** What the page knows of the stack's history: its updates (null without a stack), still loading, or why it could not be read. */
export interface StackView {
  stack: readonly StackUpdate[] | null;
  loading: boolean;
  error: string | null;
}

/** A server's history: its sessions first (what people did), each with its journal behind a click; then who asked for what, and the stack. */
export function historyBody(server: string, timeline: { sessions: readonly SessionJson[]; since: readonly JournalJson[] }, audit: readonly AuditEntry[], { stack, loading, error: stackError }: StackView): Html {
  const longest = Math.max(1, ...timeline.sessions.map((x) => x.seconds));
  return html`<h1>History of ${server}</h1>
<p><a href="/">Back to the servers</a></p>
<section aria-labelledby="sessions-title">
<h2 id="sessions-title">Sessions</h2>
${timeline.since.length ? html`<div class="session"><h3>Since the last session</h3><p>Steps that started no machine (a start that failed or was refused).</p>${steps(timeline.since)}</div>` : ''}
${timeline.sessions.length === 0
  ? html`<p>${server} has not run yet.</p>`
  : html`<ol class="sessions" reversed>${timeline.sessions.map((x) => session(x, longest))}</ol>`}
</section>
<section aria-labelledby="audit-title">
<h2 id="audit-title">Who asked for what</h2>
${audit.length === 0 ? html`<p>Nobody has asked for anything yet.</p>` : html`<details><summary>${audit.length} requests, newest first</summary>${auditTable(audit, false)}</details>`}
</section>
${stack !== null || stackError !== null || loading
  ? html`<section aria-labelledby="stack-title">
<h2 id="stack-title">Pulumi stack updates</h2>
${stackError ? html`<p class="error">Could not read the stack history: ${stackError}</p>` : ''}
${loading ? html`<p role="status">The stack history is loading (Pulumi takes a few seconds to read it); <a href="/servers/${server}">reload</a> in a moment.</p>` : ''}
${stack && stack.length > 0
  ? html`<details><summary>${stack.length} updates, newest first</summary><ol class="steps">${stack.map(
      (u) => html`<li><span class="step-head">${when(Date.parse(u.startTime))} · #${u.version} ${u.kind} · ${u.result}</span><span class="step-detail">${u.message}</span></li>`,
    )}</ol></details>`
  : stack ? html`<p>No updates yet.</p>` : ''}
</section>`
  : ''}`;
}

/** One session: the facts people ask about, a bar of its length beside the longest, and its steps one click away. */
function session(x: SessionJson, longest: number): Html {
  const words = sessionWords(x);
  return html`<li class="session">
<h3>${when(Date.parse(x.startedAt))}</h3>
<meter class="length" min="0" max="${longest}" value="${x.seconds}" aria-hidden="true"></meter>
<dl class="facts">
<div><dt>Started by</dt><dd>${words.startedBy}</dd></div>
<div><dt>Played</dt><dd>${words.players}${words.playTime ? ` (${words.playTime})` : ''}</dd></div>
<div><dt>Ran</dt><dd>${words.ran}</dd></div>
<div><dt>Cost</dt><dd>${words.cost}</dd></div>
<div><dt>Ended</dt><dd>${words.ended}</dd></div>
<div><dt>Saved as</dt><dd>${words.endedIn}</dd></div>
</dl>
<details><summary>Journal: ${x.journal.length} steps</summary>${steps(x.journal)}</details>
</li>`;
}

/** Journal rows as a list that wraps at any width (no table): newest first. */
function steps(journal: readonly JournalJson[]): Html {
  return html`<ol class="steps">${[...journal].reverse().map(
    (e) => html`<li class="outcome-${e.outcome ?? 'pending'}"><span class="step-head">${when(Date.parse(e.intentAt))} · ${e.phase} · ${e.step} · ${e.outcome ?? 'in progress'}</span>${e.error ?? e.detail ? html`<span class="step-detail">${e.error ?? e.detail}</span>` : ''}</li>`,
  )}</ol>`;
}

export function auditTable(audit: readonly AuditEntry[], withServer: boolean): Html {
  return html`<div class="table-wrap"><table class="rows-on-phone"><caption class="visually-hidden">Requests, newest first</caption>
<thead><tr><th scope="col">When</th><th scope="col">Who</th>${withServer ? html`<th scope="col">Server</th>` : ''}<th scope="col">What</th><th scope="col">From</th></tr></thead>
<tbody>${audit.map((a) => html`<tr><td>${when(a.at)}</td><td data-label="Who">${a.actor}</td>${withServer ? html`<td data-label="Server">${a.server ?? '-'}</td>` : ''}<td data-label="What">${a.action}${a.detail ? `: ${a.detail}` : ''}</td><td data-label="From">${a.source}</td></tr>`)}</tbody></table></div>`;
}
