// The World versions section's upload form (issue 19 item 5): the file goes to the API as the raw body
// (application/gzip, or application/zip for a .zip) with XMLHttpRequest, whose upload events give the progress bar; fetch has none.
// Bound on the document, so a section re-rendered later still works. Text from the server is set as
// textContent, never as HTML.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches('form[data-world-upload]')) return;
  event.preventDefault();
  const file = form.querySelector('input[type="file"]').files[0];
  const progress = form.querySelector('progress');
  const status = form.querySelector('[role="status"]');
  const button = form.querySelector('button');
  if (!file) return void (status.textContent = 'Choose a .tar.gz or .zip file first.');
  // The session's CSRF token: this form's own field (every logged-in page's header has one too).
  const csrf = (form.querySelector('input[name="_csrf"]') ?? document.querySelector('input[name="_csrf"]'))?.value ?? '';
  const xhr = new XMLHttpRequest();
  xhr.open('POST', form.action);
  xhr.setRequestHeader('content-type', /\.zip$/i.test(file.name) ? 'application/zip' : 'application/gzip');
  xhr.setRequestHeader('x-csrf-token', csrf);
  xhr.setRequestHeader('accept', 'application/json');
  xhr.upload.addEventListener('progress', (e) => {
    if (!e.lengthComputable) return;
    progress.max = e.total;
    progress.value = e.loaded;
    status.textContent = `Sent ${Math.round((100 * e.loaded) / e.total)}%`;
  });
  xhr.upload.addEventListener('load', () => void (status.textContent = 'Sent; checking the world…'));
  xhr.addEventListener('load', () => {
    button.disabled = false;
    let body = {};
    try {
      body = JSON.parse(xhr.responseText);
    } catch {
      // Not JSON: the status line says what happened.
    }
    if (xhr.status === 201) {
      status.textContent = `Stored as ${body.uploaded.id}; the next start boots it. Reloading…`;
      setTimeout(() => location.reload(), 1_000);
    } else {
      status.textContent = `Not uploaded (${xhr.status}): ${body.error ?? xhr.statusText}`;
    }
  });
  xhr.addEventListener('error', () => {
    button.disabled = false;
    status.textContent = 'The upload was cut off before the controller answered; try again.';
  });
  button.disabled = true;
  progress.hidden = false;
  progress.value = 0;
  status.textContent = 'Sending…';
  xhr.send(file);
});
