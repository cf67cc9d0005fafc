import { createInterface } from 'node:readline';
import { messageOf } from '../errors.js';
import { terminalText } from './terminal-text.js';

export interface ConsolePromptOptions {
  server: string;
  /** One command to the game's console through the API; the game's answer. */
  send: (command: string) => Promise<string>;
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  errors: NodeJS.WritableStream;
  /** A person at a terminal: a prompt with history. Otherwise one command per line, as a script sends them. */
  interactive: boolean;
}

/** Lines of history Up and Down go through at the prompt. */
const HISTORY = 500;

/**
 * `ood console <server>`: each line is one command, sent when the one before has been answered (the
 * console takes two at a time per server; one by one keeps the answers in order). At a terminal it is a
 * prompt with history, where a failed command says why and the prompt comes back. From a pipe or a
 * file every line is tried, each failure is named by its line, and the exit code is 1 if any failed.
 * Resolves to the exit code.
 */
export async function runConsole(o: ConsolePromptOptions): Promise<number> {
  return o.interactive ? prompt(o) : script(o);
}

async function script(o: ConsolePromptOptions): Promise<number> {
  const lines = createInterface({ input: o.input, crlfDelay: Infinity, terminal: false });
  let number = 0;
  let failed = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === '') continue;
    try {
      printAnswer(o.output, await o.send(line));
    } catch (err) {
      failed++;
      o.errors.write(`ood: line ${number} (${shown(line)}) failed: ${messageOf(err)}\n`);
    }
  }
  if (failed > 0) o.errors.write(`ood: ${failed} of the commands to ${o.server} failed\n`);
  return failed > 0 ? 1 : 0;
}

async function prompt(o: ConsolePromptOptions): Promise<number> {
  const rl = createInterface({ input: o.input, output: o.output, terminal: true, historySize: HISTORY, removeHistoryDuplicates: true, prompt: `${o.server}> ` });
  // Ctrl-C leaves the prompt as Ctrl-D does; a command already sent is answered first.
  rl.on('SIGINT', () => rl.close());
  o.output.write(`The console of ${o.server}: one command a line (no leading /), its answer below. Up and Down go through the history; Ctrl-D leaves.\n`);
  rl.prompt();
  for await (const line of rl) {
    if (line.trim() !== '') {
      try {
        printAnswer(o.output, await o.send(line));
      } catch (err) {
        o.errors.write(`error: ${messageOf(err)}\n`);
      }
    }
    rl.prompt();
  }
  o.output.write('\n');
  return 0;
}

/** The game's answer as it gave it, made safe for a terminal; an empty answer (`say`) prints nothing, as the game's console does. */
function printAnswer(output: NodeJS.WritableStream, answer: string): void {
  const text = terminalText(answer, { keepLineBreaks: true }).replace(/\n+$/, '');
  if (text !== '') output.write(`${text}\n`);
}

/** A command as an error names it: safe to print, and short. */
function shown(line: string): string {
  const safe = terminalText(line.trim());
  return safe.length > 60 ? `${safe.slice(0, 57)}…` : safe;
}
