import type { Controller } from '../../controller.js';
import { alwaysOnWords, usd } from '../../cost/billing.js';
import { diskWords } from '../../cost/disk-use.js';
import { html, type Html } from '../html.js';
import { csrfField, type PageContext } from './layout.js';

/** The month in one line: money where the servers cost money (DigitalOcean), hours everywhere. */
export function costLine(controller: Controller): Html {
  const cost = controller.meter.month();
  const cloud = controller.config.servers.some((s) => s.driver === 'digitalocean');
  const hours = `${cost.hours.toFixed(1)} h up, ${cost.playerHours.toFixed(1)} player-hours`;
  const budget = controller.config.budget.monthlyUsd;
  // Said once there is something on the disk: "0 B" on a fresh install would read as a fault.
  const disk = cost.disk && cost.disk.bytes > 0 ? `; ${diskWords({ bytes: cost.disk.bytes, archives: cost.disk.archivesBytes, copies: cost.disk.copiesBytes })}` : '';
  if (!cloud) return html`<p class="cost">This month: ${hours}${disk}.</p>`;
  return html`<p class="cost">This month: <strong>${usd(cost.totalUsd)}</strong> so far, about ${usd(cost.forecastUsd)} by its end (${alwaysOnWords(cost)}); ${hours}${disk}${
    budget === undefined ? '' : html`; budget ${usd(budget)}${cost.totalUsd >= budget * controller.config.budget.warnAt ? html` <span class="alert">(${Math.round((cost.totalUsd / budget) * 100)} % used)</span>` : ''}`
  }.</p>`;
}

/** A start refused by the budget, shown to an admin with the choice to go ahead. */
export function overBudgetBody(page: PageContext, server: string, message: string): Html {
  return html`<div class="narrow">
<h1>Over the budget</h1>
<p>${message}</p>
<form method="post" action="/servers/${server}/start" class="inline">${csrfField(page)}<input type="hidden" name="override" value="1"><button type="submit" class="button danger">Start ${server} anyway</button></form>
<p><a href="/">Back to the servers</a></p>
</div>`;
}
