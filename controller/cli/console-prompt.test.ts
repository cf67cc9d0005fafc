import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runConsole } from './console-prompt.js';

/** The console over a pipe: `input` as stdin, what it printed, and its exit code. */
async function piped(input: string, send: (command: string) => Promise<string>) {
  const stdin = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  const collect = (into: string[]) => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => into.push(chunk.toString()));
    return stream;
  };
  const done = runConsole({ server: 's', send, input: stdin, output: collect(out), errors: collect(err), interactive: false });
  stdin.end(input);
  const code = await done;
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('ood console from a pipe', () => {
  it('sends one line at a time, in order, and prints each answer; blank lines and empty answers print nothing', async () => {
    const sent: string[] = [];
    let inFlight = 0;
    const result = await piped('list\n\nsay hi\r\nhelp\n', async (command) => {
      expect(++inFlight).toBe(1);
      sent.push(command);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { list: 'There are 0 of a max of 20 players online: ', 'say hi': '', help: '§e/help\n/list\n' }[command]!;
    });
    expect(sent).toEqual(['list', 'say hi', 'help']);
    expect(result).toEqual({ code: 0, stdout: 'There are 0 of a max of 20 players online: \n/help\n/list\n', stderr: '' });
  });

  it('goes on after a failure, names its line, and exits 1', async () => {
    const result = await piped('list\nbad\u0001one\nlist\n', async (command) => {
      if (command.includes('\u0001')) throw new Error('POST /api/servers/s/console failed with 400: the command has a control character (U+0001) at position 4; send one line of text');
      return 'ok';
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('ok\nok\n');
    expect(result.stderr).toBe(
      'ood: line 2 (bad\uFFFDone) failed: POST /api/servers/s/console failed with 400: the command has a control character (U+0001) at position 4; send one line of text\nood: 1 of the commands to s failed\n',
    );
  });
});
