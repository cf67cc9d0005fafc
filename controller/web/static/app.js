// OoD's page script: live server cards over server-sent events, times that count down, Copy buttons,
// and buttons that act without leaving the page. Every page works without it.
// A module (strict, deferred): the time wording is the server's own module, served beside this file.
import { wordsFor } from './relative-time.js';

function tick() {
  const now = Date.now();
  for (const time of document.querySelectorAll('time[data-relative]')) {
    const at = Date.parse(time.getAttribute('datetime'));
    if (!Number.isNaN(at)) time.textContent = wordsFor(time.dataset.relative, at, now);
  }
  for (const bar of document.querySelectorAll('progress[data-since]')) {
    const elapsed = (now - Date.parse(bar.dataset.since)) / 1000;
    bar.value = Math.min(bar.max, Math.max(0, Math.round(elapsed)));
  }
}

function enhance(root) {
  for (const button of root.querySelectorAll('button[data-copy]')) {
    button.hidden = false;
    button.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        button.textContent = 'Copied';
      } catch {
        // No clipboard permission (plain http): select the text so a long press or Ctrl+C copies it.
        const code = button.previousElementSibling;
        if (code) window.getSelection().selectAllChildren(code);
        button.textContent = 'Selected';
      }
      setTimeout(() => (button.textContent = 'Copy'), 2000);
    });
  }
  for (const form of root.querySelectorAll('.server form[method="post"]')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = form.querySelector('button');
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(new FormData(form)),
          credentials: 'same-origin',
        });
        if (!response.ok) {
          const body = await response.json().catch(() => ({}));
          // Over the budget, pressed by an admin: the page that offers "Start anyway" comes from a plain submit.
          if (body.budget && body.overridable) return form.submit();
          showProblem(form, body.error || 'That did not work (HTTP ' + response.status + ').');
          button.disabled = false;
        }
        // On success the live update replaces the card, button and all.
      } catch {
        showProblem(form, 'OoD did not answer; check your connection and try again.');
        button.disabled = false;
      }
    });
  }
}

function showProblem(form, text) {
  const card = form.closest('.server');
  let box = card.querySelector('.problem');
  if (!box) {
    box = document.createElement('p');
    box.className = 'problem';
    box.setAttribute('role', 'alert');
    card.append(box);
  }
  box.textContent = text;
}

function live(url) {
  const source = new EventSource(url);
  source.addEventListener('server', (message) => {
    const { id, html } = JSON.parse(message.data);
    const old = document.getElementById('server-' + id);
    if (!old) return;
    const template = document.createElement('template');
    template.innerHTML = html;
    const card = template.content.firstElementChild;
    old.replaceWith(card);
    enhance(card);
    tick();
  });
  source.addEventListener('open', () => document.body.classList.remove('offline'));
  source.addEventListener('error', () => document.body.classList.add('offline'));
}

document.addEventListener('DOMContentLoaded', () => {
  enhance(document);
  tick();
  setInterval(tick, 1000);
  if (document.body.dataset.live) live(document.body.dataset.live);
});
