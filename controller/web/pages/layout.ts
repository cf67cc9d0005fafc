import { html, type Html } from '../html.js';
import type { Person } from '../../store/people.js';

export interface PageContext {
  /** Who is looking; undefined before login. */
  person: Person | undefined;
  /** The session's CSRF token, for every form. */
  csrf: string;
}

/** The hidden field every POST form carries. */
export const csrfField = (page: PageContext) => html`<input type="hidden" name="_csrf" value="${page.csrf}">`;

/** A whole page: the same head, header and footer everywhere; styles and script are files (the CSP allows no inline ones). */
export function layout(page: PageContext, title: string, main: Html, options: { live?: boolean } = {}): Html {
  const person = page.person;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · OoD</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="/static/icon.svg" type="image/svg+xml">
<script src="/static/app.js" type="module"></script>
</head>
<body${options.live ? html` data-live="/events"` : ''}>
<header class="top">
  <a class="brand" href="/">OoD <span class="sub">Ore on Demand</span></a>
  ${person
    ? html`<nav aria-label="Account">
    ${person.permissions.includes('admin') ? html`<a href="/admin">People</a>` : ''}
    <span class="me">${person.avatar ? html`<img class="avatar" src="${person.avatar}" alt="" width="24" height="24" referrerpolicy="no-referrer">` : ''}${person.name ?? person.identity}</span>
    <form method="post" action="/logout" class="inline">${csrfField(page)}<button type="submit" class="link">Log out</button></form>
  </nav>`
    : ''}
</header>
<main id="main">
${main}
</main>
</body>
</html>
`;
}
