// The server page's console (issue 21): the game's log live over server-sent events, and a command line
// that sends one command by fetch with the session's CSRF token. Without this script the page still shows
// the last lines and the form posts as a plain form. Text from the game is set as textContent, never as HTML.

/** Lines kept on the page: the oldest go, so a chatty game cannot make the page grow without end. */
const MAX_LINES = 2000;
/** Earlier commands Up and Down bring back. */
const MAX_HISTORY = 100;

const section = document.querySelector('section[data-console-events]');
if (section) start(section);

function start(section) {
  const log = section.querySelector('pre[role="log"]');
  const status = section.querySelector('[data-console-status]');
  const form = section.querySelector('form[data-console-form]');
  const input = form.querySelector('input[name="command"]');
  const answer = section.querySelector('[data-console-answer]');
  const say = (text) => void (status.textContent = text);

  // Auto-scroll follows the newest line until the reader scrolls up; scrolling back down follows again.
  let following = true;
  log.addEventListener('scroll', () => {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    if (atBottom !== following) {
      following = atBottom;
      say(following ? 'Live: new lines appear as the game writes them.' : 'Paused while you read: scroll to the bottom to follow again.');
    }
  });
  const toBottom = () => void (log.scrollTop = log.scrollHeight);
  toBottom();

  function append(lines) {
    const fragment = document.createDocumentFragment();
    for (const line of lines) {
      const span = document.createElement('span');
      span.className = line.kind === 'ood' ? 'ood-line' : 'game-line';
      span.textContent = (line.kind === 'ood' ? '[OoD] ' : '') + line.text + '\n';
      fragment.append(span);
    }
    log.append(fragment);
    let extra = log.childElementCount - MAX_LINES;
    while (extra-- > 0) log.firstElementChild.remove();
    if (following) toBottom();
  }

  const source = new EventSource(section.dataset.consoleEvents);
  // Every (re)connect begins with the backlog: it replaces what the page shows, so no line shows twice.
  source.addEventListener('open', () => {
    log.replaceChildren();
    say(following ? 'Live: new lines appear as the game writes them.' : 'Paused while you read: scroll to the bottom to follow again.');
  });
  source.addEventListener('line', (message) => append(JSON.parse(message.data)));
  // The server lets a reader that fell 1 MiB behind go; EventSource connects again by itself.
  source.addEventListener('gap', () => say('The page fell behind the log; catching up…'));
  source.addEventListener('error', () => {
    say(source.readyState === EventSource.CLOSED
      ? 'The live log stopped (logged out, or the console was taken away); reload the page.'
      : 'The live log was cut off; connecting again…');
  });

  const history = [];
  let at = 0;
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowUp' && at > 0) {
      at--;
    } else if (event.key === 'ArrowDown' && at < history.length) {
      at++;
    } else {
      return;
    }
    event.preventDefault();
    input.value = history[at] ?? '';
  });

  const csrf = form.querySelector('input[name="_csrf"]').value;
  const button = form.querySelector('button[type="submit"]');
  const show = (command, text, failed) => {
    answer.textContent = `> ${command}\n${text}`;
    answer.classList.toggle('error', failed);
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const command = input.value;
    if (command.trim() === '') return;
    if (history.at(-1) !== command) history.push(command);
    if (history.length > MAX_HISTORY) history.shift();
    at = history.length;
    input.value = '';
    button.disabled = true;
    show(command, 'Sent; waiting for the game…', false);
    try {
      const response = await fetch(form.action, {
        method: 'POST',
        headers: { accept: 'application/json', 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ command }),
        credentials: 'same-origin',
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) show(command, body.answer || '(the game answered nothing)', false);
      else show(command, body.error || `That did not work (HTTP ${response.status}).`, true);
    } catch {
      show(command, 'OoD did not answer; check your connection and try again.', true);
    } finally {
      button.disabled = false;
      input.focus();
    }
  });
}
