import { humanBytes } from '../../cli/human-bytes.js';
import type { WorldVersion } from '../../worlds/versions.js';
import { html, type Html } from '../html.js';
import { iso } from './format.js';
import { csrfField, type PageContext } from './layout.js';

const when = (ms: number) => html`<time datetime="${iso(ms)}">${iso(ms).replace('T', ' ').slice(0, 19)} UTC</time>`;

function sessionWords(v: WorldVersion): string {
  if (!v.session) return 'not recorded';
  const seconds = v.session.duration;
  const minutes = Math.round(seconds / 60);
  const played = v.session.players.length ? v.session.players.join(', ') : 'nobody played';
  // Under a minute in seconds, as the Sessions list says it: "1 min" for a 4 s session read as wrong.
  const ran = seconds < 60 ? `${seconds} s` : minutes < 120 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`;
  return `started by ${v.session.by ?? 'unknown'}; ${played}; ran ${ran}`;
}

/** The next start's version needs no restore; a local server's copy cannot be restored (its restore choice names an archive). */
function restorable(v: WorldVersion, versions: readonly WorldVersion[]): boolean {
  return !v.next && (v.where !== 'local copy' || versions.some((o) => o.where === 'DigitalOcean snapshot'));
}

/** An archive or a copy downloads as it is; a snapshot's row offers the newest copy (versions are newest first), or says there is none. */
function downloadLink(server: string, v: WorldVersion, versions: readonly WorldVersion[]): Html {
  if (v.where !== 'DigitalOcean snapshot') return html`<a href="/api/servers/${server}/worlds/${v.id}/download" download>Download ${v.id} (.tar.gz)</a>`;
  const copy = versions.find((o) => o.where === 'local copy');
  if (!copy) return html`<small>A snapshot cannot be downloaded, and no copy is on this machine yet</small>`;
  return html`<small>A snapshot cannot be downloaded:</small> <a href="/api/servers/${server}/worlds/${copy.id}/download" download>Download the newest copy, ${copy.id} (.tar.gz)</a>`;
}

function flags(v: WorldVersion): string {
  return [v.next ? 'the next start uses it' : '', v.chosen ? 'restored' : '', v.pinned ? 'pinned (never pruned)' : ''].filter(Boolean).join('; ') || '-';
}

/**
 * The server page's "World versions" section: every version OoD keeps, newest first; admins get a
 * Restore link per version that is not already the next start's, which leads to a confirmation page,
 * and a Download link per archive or copy on this machine; a DigitalOcean snapshot cannot be downloaded,
 * so its row links the newest copy instead, or says there is none yet.
 * A table whose rows become labelled blocks on a phone (rows-on-phone), so it reads at 375 px.
 */
export function worldVersionsSection(server: string, versions: readonly WorldVersion[] | { error: string }, o: { admin: boolean; archived: boolean }): Html {
  const body =
    'error' in versions
      ? html`<p class="error">Could not list the world versions: ${versions.error}</p>`
      : versions.length === 0
        ? html`<p>${server} has no world versions yet: one is made each time it stops.</p>`
        : html`<div class="table-wrap"><table class="rows-on-phone"><caption class="visually-hidden">World versions of ${server}, newest first</caption>
<thead><tr><th scope="col">Made</th><th scope="col">Size</th><th scope="col">Where</th><th scope="col">Session</th><th scope="col">Next start</th>${o.admin ? html`<th scope="col"><span class="visually-hidden">Restore or download</span></th>` : ''}</tr></thead>
<tbody>${versions.map(
            (v) => html`<tr><td>${when(v.time)}<br><small>${v.id}</small></td><td data-label="Size">${humanBytes(v.bytes)}</td><td data-label="Where">${v.where}</td><td data-label="Session">${sessionWords(v)}</td><td data-label="Next start">${flags(v)}</td>${
              o.admin
                ? html`<td>${restorable(v, versions) ? html`<a href="/servers/${server}/worlds/${v.id}/restore">Restore ${v.id}…</a><br>` : ''}${downloadLink(server, v, versions)}</td>`
                : ''
            }</tr>`,
          )}</tbody></table></div>
${o.admin && !o.archived ? html`<p>A version can be restored only while ${server} is stopped and archived.</p>` : ''}`;
  return html`<section aria-labelledby="worlds-title">
<h2 id="worlds-title">World versions</h2>
${body}
${o.admin ? uploadForm(server, o.archived) : ''}
</section>`;
}

/**
 * Admins upload a world (.tar.gz or .zip) as the next start's version; world-upload.js sends the file to the API
 * with its progress (the CSRF token is the header's field; without JavaScript, `ood upload` does it).
 */
function uploadForm(server: string, archived: boolean): Html {
  return html`<form method="post" action="/api/servers/${server}/worlds/upload" enctype="application/octet-stream" data-world-upload>
<h3>Upload a world</h3>
<p>A .tar.gz or .zip of a world folder (the one with level.dat in it). It becomes the newest version and the next start boots it; the versions before it are kept. ${archived ? '' : html`Only while ${server} is stopped and archived. `}Needs JavaScript; or use <code>ood upload ${server} FILE</code>.</p>
<label>World file <input type="file" name="world" accept=".tar.gz,.tgz,.zip,application/gzip,application/zip" required></label>
<button type="submit" class="button">Upload</button>
<progress hidden max="1" value="0" aria-label="Upload progress"></progress>
<p role="status" aria-live="polite"></p>
</form>
<script src="/static/world-upload.js" type="module"></script>`;
}

/** The confirmation before a restore: what the next start will boot, and the newer versions left behind (kept, not deleted). */
export function restoreConfirmBody(page: PageContext, server: string, version: WorldVersion, newer: readonly WorldVersion[]): Html {
  return html`<h1>Restore ${server} to ${version.id}?</h1>
<p>The next start of ${server} boots the world saved ${when(version.time)} (${version.name}, ${version.where}).</p>
${newer.length
  ? html`<p>These newer versions will be left behind. They are kept, not deleted, until a start from ${version.id} has been saved again:</p>
<ul>${newer.map((v) => html`<li>${v.id}, saved ${when(v.time)}</li>`)}</ul>`
  : html`<p>No newer version is left behind.</p>`}
<form method="post" action="/servers/${server}/worlds/${version.id}/restore" class="inline">${csrfField(page)}<button type="submit" class="button danger">Restore ${version.id}</button></form>
<p><a href="/servers/${server}">Cancel</a></p>`;
}
