import { MAX_COMMAND_BYTES } from '../../console/command-check.js';
import type { LogLine } from '../../logs/log-hub.js';
import { html, type Html } from '../html.js';
import { csrfField, type PageContext } from './layout.js';

/** What the last command got, shown under the command line (a form post without JavaScript). */
export interface ConsoleAnswer {
  command: string;
  /** The game's answer, or why the command was not sent. */
  text: string;
  failed: boolean;
}

/** How a line reads: OoD's own lines carry a prefix as well as their style, so a screen reader tells them apart too. */
export function lineText(line: Pick<LogLine, 'kind' | 'text'>): string {
  return line.kind === 'ood' ? `[OoD] ${line.text}` : line.text;
}

/**
 * The server page's console (people with `console`): the game's log in a `<pre role="log">`, filled and
 * then followed live by console.js over `/servers/<id>/console/events`, and a one-line form that sends a
 * command. The lines are the server's own escaping of the backlog; the script adds new ones as
 * textContent. Without JavaScript the form posts and the answer comes back in this same section.
 */
export function consoleSection(page: PageContext, server: string, o: { backlog: readonly LogLine[]; answer?: ConsoleAnswer }): Html {
  return html`<section aria-labelledby="console-title" class="console" data-console-events="/servers/${server}/console/events">
<h2 id="console-title">Console</h2>
<p class="console-status" data-console-status>The game's log, newest at the bottom. Lines marked [OoD] are OoD's own. Reload the page for newer lines.</p>
<pre class="console-log" role="log" aria-live="off" aria-labelledby="console-title" tabindex="0">${o.backlog.map((line) => html`<span class="${line.kind === 'ood' ? 'ood-line' : 'game-line'}">${lineText(line)}
</span>`)}</pre>
<form method="post" action="/servers/${server}/console" class="console-form" data-console-form>
${csrfField(page)}
<label for="console-command">Command for ${server}'s console</label>
<div class="console-input">
<input id="console-command" name="command" type="text" maxlength="${MAX_COMMAND_BYTES}" autocomplete="off" autocapitalize="off" spellcheck="false" required aria-describedby="console-hint">
<button type="submit" class="button">Send</button>
</div>
<p id="console-hint" class="console-hint">One command as in the game's console, without the leading slash (<code>list</code>, <code>say hello</code>, <code>whitelist add Alex</code>); only while ${server} is running. Up and Down bring back earlier commands. Every command is in the history with your name.</p>
</form>
<pre class="console-answer${o.answer?.failed ? ' error' : ''}" data-console-answer role="status" aria-live="polite">${o.answer ? `> ${o.answer.command}\n${o.answer.text}` : ''}</pre>
</section>
<script src="/static/console.js" type="module"></script>`;
}

/** The console alone: the answer to a form post without JavaScript, and a page to link to. */
export function consolePageBody(page: PageContext, server: string, o: { backlog: readonly LogLine[]; answer?: ConsoleAnswer }): Html {
  return html`<h1>Console of ${server}</h1>
<p><a href="/servers/${server}">Back to ${server}</a> · <a href="/">All servers</a></p>
${consoleSection(page, server, o)}`;
}
