import { Command, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { readAdminToken } from '../admin-token.js';
import { formatDuration, parseDuration } from '../config/duration.js';
import { parsePort, readEnv, type OodEnv } from '../config/env.js';
import { loadConfig, type ListenOverride, type LoadedConfig } from '../config/load.js';
import { describeBackups } from '../config/describe-backups.js';
import { describeLobby } from '../config/describe-lobby.js';
import { describeHostnames } from '../config/describe-hostnames.js';
import { listensOnOwnPort } from '../config/hostname-routes.js';
import { validateForServe } from '../config/serve-checks.js';
import { sessionWords } from '../api/session-json.js';
import { usd } from '../cost/billing.js';
import { diskWords } from '../cost/disk-use.js';
import { ConfigError, messageOf } from '../errors.js';
import { describeGame } from '../game/command.js';
import { ApiClient } from './api-client.js';
import { addDiscordCommands } from './discord-command.js';
import { controllerInfoPath } from './controller-info.js';
import { downloadWorld } from './download-file.js';
import { uploadWorld } from './upload-file.js';
import { humanBytes } from './human-bytes.js';
import { cliTime } from './time-format.js';
import { waitFor } from './wait.js';
import { formatLine, followLogs } from './log-stream.js';
import { runConsole } from './console-prompt.js';

const env: OodEnv = readEnv(process.env);
const program = new Command('ood').description('Ore on Demand: a Minecraft server that runs only while people play').showHelpAfterError();
program.option('-c, --config <file>', 'config file (default: $OOD_CONFIG, else ./ood.yaml, else the embedded default)');
program.option('--url <url>', 'controller URL for client commands (default: $OOD_URL, else the running local controller)');
// Listed here, not imported from log.ts: that module loads pino, which client commands do not need.
program.addOption(new Option('--log-format <format>', 'log lines of `serve`: pretty (readable), json (one object a line), auto (pretty on a terminal)').choices(['auto', 'pretty', 'json']).default('auto'));
const logFormat = () => program.opts<{ logFormat: 'auto' | 'pretty' | 'json' }>().logFormat;

const loaded = (listen: ListenOverride = {}): LoadedConfig =>
  loadConfig({ configPath: program.opts<{ config?: string }>().config, envPath: env.configPath, cwd: process.cwd(), listen });

/** Where the controller's API is, and the admin token to use there. */
function apiTarget(): { url: string; token: string | undefined } {
  const { config } = loaded();
  let url = program.opts<{ url?: string }>().url ?? env.url;
  const infoPath = controllerInfoPath(config.dataDir);
  if (!url && existsSync(infoPath)) url = (JSON.parse(readFileSync(infoPath, 'utf8')) as { url: string }).url;
  url ??= `http://${config.listen.host}:${config.listen.port}`;
  return { url, token: readAdminToken(env.adminToken, config.dataDir) };
}

function client(): ApiClient {
  const { url, token } = apiTarget();
  return new ApiClient(url, token);
}

const waitOption = () => new Option('--timeout <duration>', 'with --wait: give up after this long').default('15m');
const timeoutMs = (text: string) => {
  const ms = parseDuration(text);
  if (ms === undefined) throw new ConfigError(`--timeout: expected a duration like "15m", got "${text}"`);
  return ms;
};
// Every instant the CLI prints, one format (local time with zone): time-format.ts.
const at = (iso: string | null) => cliTime(iso);

program
  .command('serve')
  .description('run the controller and its HTTP API')
  .option('--host <address>', 'where the API listens (default: $OOD_HOST, else listen.host, 127.0.0.1)')
  .option('--port <port>', 'the API port, 0 for any free one (default: $OOD_PORT, else listen.port, 8080)')
  .action(async (opts: { host?: string; port?: string }) => {
    const config = loaded({ host: opts.host ?? env.listen.host, port: parsePort(opts.port, '--port') ?? env.listen.port });
    // Loaded here, not above: the controller, the API and their packages are for `serve` only, and a
    // client command such as `ood status` should not wait for them.
    const [{ createLogger, logDestination }, { greeting, serve }] = await Promise.all([import('../log.js'), import('./serve.js')]);
    const log = createLogger(config.config.log.level, await logDestination(logFormat()));
    const serving = await serve(config, env, log);
    const shutdown = (signal: string) => {
      log.info({ signal }, 'Stopping the controller; game processes keep running and are found again on the next start');
      serving.close().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err: messageOf(err) }, 'Could not stop cleanly');
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
    // kill -HUP reads ood.yaml again, as `ood config reload` does; the outcome goes to the log and the audit.
    process.on('SIGHUP', () => {
      try {
        serving.reload({ actor: 'SIGHUP', source: 'signal' });
      } catch (err) {
        if (!(err instanceof ConfigError)) log.error({ err: messageOf(err) }, 'Could not reload the config');
      }
    });
    // Only now: whoever waits for this line (a supervisor, a test) may signal at once, and a SIGTERM
    // before the handlers are in place would end the controller without its clean stop.
    process.stdout.write(greeting(serving.url, config, env, serving.loginLink) + '\n');
  });

program
  .command('status')
  .description('show every server')
  .option('--json', 'print the API answer as JSON')
  .action(async (opts: { json?: boolean }) => {
    const api = client();
    const [servers, { orphans }] = await Promise.all([api.servers(), api.orphans()]);
    if (opts.json) return void process.stdout.write(JSON.stringify({ servers, orphans }, null, 2) + '\n');
    const rows = servers.map((s) => [s.id, s.phase, s.desired, `${s.players.online}/${s.players.max}`, s.address ?? '-', at(s.idle.stopsAt), s.lastError ?? '']);
    printTable(['SERVER', 'PHASE', 'WANTED', 'PLAYERS', 'ADDRESS', 'IDLE STOP', 'LAST ERROR'], rows);
    for (const s of servers) if (s.alert) process.stdout.write(`\n!! ${s.id}: ${s.alert}\n`);
    for (const o of orphans) process.stdout.write(`\n!! orphan: ${o.message}\n`);
  });

for (const [name, target] of [['start', 'running'], ['stop', 'archived']] as const) {
  const command = program
    .command(`${name} <server>`)
    .description(name === 'start' ? 'bring a server up from its newest archive' : 'save, archive and remove a server')
    .option('--wait', `follow progress until it is ${target}`)
    .addOption(waitOption());
  if (name === 'start') command.option('--override-budget', "start even if it goes past this month's budget (an admin's call)");
  command.action(async (id: string, opts: { wait?: boolean; timeout: string; overrideBudget?: boolean }) => {
    const api = client();
    const server = name === 'start' ? await api.start(id, { overrideBudget: opts.overrideBudget === true }) : await api.stop(id);
    if (!opts.wait) return void process.stdout.write(`${id}: wanted ${server.desired}, now ${server.phase}\n`);
    await waitFor(api, id, target, { timeoutMs: timeoutMs(opts.timeout), out: process.stdout, requested: server });
  });
}

program
  .command('keepalive <server>')
  .description('keep a running server up for its idle.keepAlive time from now')
  .action(async (id: string) => {
    const server = await client().keepAlive(id);
    process.stdout.write(`${id}: kept alive until at least ${at(server.idle.stopsAt)}\n`);
  });

program
  .command('logs <server>')
  .description("print the game's last log lines and OoD's own ([ood]: phase changes); with -f keep printing new ones until Ctrl-C")
  .option('-f, --follow', 'keep printing lines as they come')
  .action(async (id: string, opts: { follow?: boolean }) => {
    const write = (text: string) => void process.stdout.write(text);
    if (!opts.follow) {
      const lines = await client().logs(id);
      if (lines.length === 0) write(`${id} has no log lines yet: its game has not written any since OoD last started it\n`);
      for (const line of lines) write(`${formatLine(line)}\n`);
      return;
    }
    const { url, token } = apiTarget();
    const stop = new AbortController();
    // Ctrl-C is how a follow ends: the stream closes and the command exits 0.
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
    await followLogs({ baseUrl: url, token, server: id, write, signal: stop.signal });
  });

program
  .command('console <server>')
  .description("send commands to a running game's console and print its answers: a prompt with history at a terminal, else one command per line from stdin (exit 1 if any failed)")
  .action(async (id: string) => {
    const api = client();
    process.exitCode = await runConsole({ server: id, send: (command) => api.consoleCommand(id, command), input: process.stdin, output: process.stdout, errors: process.stderr, interactive: process.stdin.isTTY === true });
  });

program
  .command('cost')
  .description("what this month cost so far, the forecast, the always-on comparison, and each session")
  .option('--json', 'print as JSON')
  .action(async (opts: { json?: boolean }) => {
    const cost = await client().cost();
    if (opts.json) return void process.stdout.write(JSON.stringify(cost, null, 2) + '\n');
    const money = (v: number | null) => (v === null ? '-' : usd(v));
    const u = cost.usd;
    // Money only with a DigitalOcean server (a size to compare always-on with, or a droplet's session):
    // the local driver costs nothing, and a line of $0.00 would read as if it were billed.
    const priced = u.alwaysOn !== 0 || cost.sessions.some((s) => s.size !== null);
    if (!priced) {
      process.stdout.write(`${cost.month}: ${cost.hours} h up, ${cost.playerHours} player-hours; the local driver costs no money\n`);
    } else {
      process.stdout.write(`${cost.month}: ${money(u.monthToDate)} so far (droplets ${money(u.droplets)}, snapshots ${money(u.snapshots)}); forecast ${money(u.forecast)}; ${u.alwaysOn === null ? `always-on price unknown (${cost.pricesError ? `DigitalOcean's prices could not be fetched: ${cost.pricesError}` : "DigitalOcean's prices are not fetched yet"})` : `always on ${money(u.alwaysOn)}`}\n`);
      process.stdout.write(`  ${cost.hours} h up, ${cost.playerHours} player-hours${u.perPlayerHour === null ? '' : `, ${money(u.perPlayerHour)} a player-hour`}\n`);
    }
    if (cost.disk && cost.disk.bytes > 0) process.stdout.write(`  ${diskWords(cost.disk)}\n`);
    if (cost.budget) process.stdout.write(`  budget ${money(cost.budget.monthlyUsd)}: ${Math.round((cost.budget.used ?? 0) * 100)} % used${cost.budget.warning ? ' (past the warning)' : ''}\n`);
    if (cost.sessions.length) {
      process.stdout.write('\n');
      printTable(['SERVER', 'SIZE', 'STARTED', 'ENDED', 'HOURS', 'COST', 'PLAYER-HOURS'], cost.sessions.map((s) => [s.server, s.size ?? 'local', at(s.startedAt), s.endedAt ? at(s.endedAt) : 'running', String(s.hours), s.usd === null ? '-' : money(s.usd), String(s.playerHours)]));
    }
  });

program
  .command('login-link')
  .description('print a one-time link that logs the admin at this machine into the web pages (works once, for 10 minutes)')
  .action(async () => {
    const { link, expiresAt } = await client().loginLink();
    process.stdout.write(`${link}\n  works once, until ${at(expiresAt)}; open it in your browser\n`);
  });

program
  .command('journal <server>')
  .description("show a server's step journal, newest first (intent and outcome of each step)")
  .option('--json', 'print as JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    const journal = await client().journal(id);
    if (opts.json) return void process.stdout.write(JSON.stringify({ journal }, null, 2) + '\n');
    printTable(['TIME', 'PHASE', 'STEP', 'OUTCOME', 'DETAIL'], newestFirst(journal).map((e) => [at(e.intentAt), e.phase, e.step, e.outcome ?? 'pending', e.error ?? e.detail ?? '']));
  });

program
  .command('history <server>')
  .description("show a server's sessions (who started it, who played, how long, what it cost, what it was saved as), then its Pulumi stack history (DigitalOcean) and OoD's own journal")
  .option('--json', 'print as JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    const { sessions, since, stack, stackLoading, journal } = await client().history(id);
    if (opts.json) return void process.stdout.write(JSON.stringify({ sessions, since, stack, stackLoading, journal }, null, 2) + '\n');
    // The same words as the history page (sessionWords), newest first.
    process.stdout.write(sessions.length ? `Sessions of ${id}, newest first\n` : `${id} has not run yet\n`);
    if (sessions.length) {
      printTable(['STARTED', 'STARTED BY', 'PLAYED', 'RAN', 'COST', 'ENDED', 'SAVED AS'], sessions.map((x) => {
        const w = sessionWords(x);
        return [at(x.startedAt), w.startedBy, w.players, w.ran, w.cost, w.ended, w.endedIn];
      }));
    }
    process.stdout.write('\n');
    if (stackLoading) {
      process.stdout.write(`Pulumi is still reading the history of stack ood-${id}; run \`ood history ${id}\` again in a minute\n\n`);
    } else if (stack === null) {
      process.stdout.write(`${id} runs on the local driver: it has no Pulumi stack, only its journal\n\n`);
    } else {
      process.stdout.write(`Pulumi stack ood-${id} (as \`pulumi stack history --stack ood-${id}\` shows it; secrets hidden)\n`);
      const changes = (c: Record<string, number>) => Object.entries(c).map(([k, n]) => `${k} ${n}`).join(', ');
      printTable(['VERSION', 'KIND', 'RESULT', 'START', 'END', 'CHANGES', 'MESSAGE'], stack.map((u) => [String(u.version), u.kind, u.result, at(u.startTime), at(u.endTime), changes(u.resourceChanges), u.message]));
      process.stdout.write('\n');
    }
    process.stdout.write("OoD's journal, newest first\n");
    printTable(['TIME', 'PHASE', 'STEP', 'OUTCOME', 'DETAIL'], newestFirst(journal).map((e) => [at(e.intentAt), e.phase, e.step, e.outcome ?? 'pending', e.error ?? e.detail ?? '']));
  });

program
  .command('archives <server>')
  .description("list a server's archives, newest first")
  .option('--json', 'print as JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    const archives = await client().archives(id);
    if (opts.json) return void process.stdout.write(JSON.stringify({ archives }, null, 2) + '\n');
    if (archives.length === 0) return void process.stdout.write(`${id} has no archives yet: one is made each time it stops\n`);
    printTable(['ARCHIVE', 'CREATED', 'SIZE'], archives.map((a) => [a.name, at(a.createdAt), humanBytes(a.bytes)]));
  });

program
  .command('download <server> [version]')
  .description("download a world version (default: the newest archive or copy; a DigitalOcean snapshot cannot be downloaded) as a .tar.gz of its world folder, unpacking to world/")
  .requiredOption('-o, --output <file>', 'the file to write (written as <file>.part, renamed when whole)')
  .action(async (id: string, version: string | undefined, opts: { output: string }) => {
    const { url, token } = apiTarget();
    // Progress only on a terminal: a script or a log gets the one final line.
    const tty = process.stderr.isTTY;
    let shown = 0;
    const done = await downloadWorld({
      baseUrl: url,
      token,
      server: id,
      version: version ?? 'newest',
      file: opts.output,
      onProgress: (bytes) => {
        if (!tty || Date.now() - shown < 200) return;
        shown = Date.now();
        process.stderr.write(`\r${humanBytes(bytes)} so far`);
      },
    });
    if (tty && shown > 0) process.stderr.write('\r\x1b[K');
    process.stdout.write(`Saved ${id}'s world version ${done.version} to ${opts.output} (${humanBytes(done.bytes)}); it unpacks to world/\n`);
  });

program
  .command('worlds <server>')
  .description("list every world version OoD keeps for a server, newest first, and which one the next start uses")
  .option('--json', 'print as JSON')
  .action(async (id: string, opts: { json?: boolean }) => {
    const versions = await client().worlds(id);
    if (opts.json) return void process.stdout.write(JSON.stringify({ versions }, null, 2) + '\n');
    if (versions.length === 0) return void process.stdout.write(`${id} has no world versions yet: one is made each time it stops\n`);
    printTable(['VERSION', 'MADE', 'SIZE', 'WHERE', 'SESSION', 'NEXT START'], versions.map((v) => [v.id, at(v.time), humanBytes(v.bytes), v.where, worldSession(v.session), [v.next ? 'next' : '', v.chosen ? 'restored' : '', v.pinned ? 'pinned' : ''].filter(Boolean).join(', ')]));
    // DigitalOcean: say which versions a download can get (a snapshot's disk cannot be read but by booting it).
    if (versions.some((v) => v.where === 'DigitalOcean snapshot')) {
      const copy = versions.find((v) => v.where === 'local copy');
      process.stdout.write(copy ? `\nSnapshots cannot be downloaded; copies can: \`ood download ${id}\` gets the newest, ${copy.id}\n` : `\nSnapshots cannot be downloaded, and no copy is on this machine yet (one is made during play and at each stop while backups are enabled)\n`);
    }
  });

program
  .command('upload <server> <file>')
  .description("upload a world (a .tar.gz, a .zip, or a folder, tarred on the fly) as the server's newest version, which its next start boots; only while it is archived")
  .action(async (id: string, file: string) => {
    const { url, token } = apiTarget();
    const tty = process.stderr.isTTY;
    let shown = 0;
    const done = await uploadWorld({
      baseUrl: url,
      token,
      server: id,
      source: file,
      onProgress: (bytes) => {
        if (!tty || Date.now() - shown < 200) return;
        shown = Date.now();
        process.stderr.write(`\r${humanBytes(bytes)} sent`);
      },
    });
    if (tty && shown > 0) process.stderr.write('\r\x1b[K');
    process.stdout.write(`${id}'s next start boots ${done.version.name}, uploaded from ${file} (${humanBytes(done.bytes)}); the versions before it are kept\n`);
  });

program
  .command('restore <server> <version>')
  .description('make the next start boot an older world version (`ood worlds` lists them); newer versions are kept, not deleted')
  .action(async (id: string, version: string) => {
    const restored = await client().restoreWorld(id, version);
    process.stdout.write(`${id}'s next start boots ${restored.name} (${restored.where}, made ${at(restored.time)}); newer versions are kept until a start from it has been saved again\n`);
  });

const snapshotsCmd = program.command('snapshots').description("a DigitalOcean server's snapshots");
snapshotsCmd
  .command('adopt <server> <snapshot>')
  .description("claim a snapshot OoD did not make (by name or id) as the server's own: it may start from it, and never prunes it")
  .action(async (id: string, snapshot: string) => {
    const adopted = await client().adoptSnapshot(id, snapshot);
    process.stdout.write(`${id} adopted snapshot ${adopted.name} (id ${adopted.id}); its next start boots it if it is the newest of its own\n`);
  });

const imageCmd = program.command('image').description('the base image droplets start from');
imageCmd
  .command('build')
  .description('make a snapshot <prefix>-image-<unix seconds> of a fresh Minecraft host: builder droplet, Ansible playbook, snapshot, builder removed')
  .option('--for <server>', 'the DigitalOcean server the image is for (default: the only one)')
  .option('--base <slug>', 'the stock image the builder starts from', 'debian-13-x64')
  .option('--from-server <server>', "start from that server's newest snapshot instead, keeping its world (a rebuild)")
  .option('--world <path>', 'seed a world: a directory, .zip or .tar.gz holding level.dat')
  .option('--keep-builder', 'keep the builder droplet afterwards, for debugging (it bills until deleted)')
  .option('--use-now', "make the image the server's next start even though it has session snapshots (their worlds are not in it)")
  .option('--force', 'build even though the server is not archived (its running session is not in the image)')
  .option('--host <address>', 'only run the playbook on a machine you already have (SSH as root); no droplet, no snapshot')
  .option('--minecraft-version <id>', "the builder downloads that version's server.jar from Mojang, checked by the sha1 in Mojang's version manifest")
  .option('--jar-url <url>', 'where the builder downloads server.jar from (with --jar-checksum)')
  .option('--jar-checksum <sum>', "server.jar's sha1:<hex> or sha256:<hex> (bare hex: 40 digits sha1, 64 sha256)")
  .option('--jar-sha256 <hex>', 'the sha256 server.jar must have (older form of --jar-checksum sha256:<hex>)')
  .option('--jar <file>', 'a server.jar on this machine to install')
  .option('--accept-eula', "accept Mojang's EULA (https://aka.ms/MinecraftEULA) in eula.txt; required")
  .option('-e, --var <key=value...>', 'more playbook variables (see ansible/README.md)')
  .action(async (opts: { for?: string; base: string; fromServer?: string; world?: string; keepBuilder?: boolean; useNow?: boolean; force?: boolean; host?: string; minecraftVersion?: string; jar?: string; jarUrl?: string; jarChecksum?: string; jarSha256?: string; acceptEula?: boolean; var?: string[] }) => {
    const { config } = loaded();
    const extra: Record<string, unknown> = {};
    for (const item of opts.var ?? []) {
      const eq = item.indexOf('=');
      if (eq < 1) throw new ConfigError(`--var ${item}: expected key=value`);
      extra[item.slice(0, eq)] = item.slice(eq + 1);
    }
    const say = (line: string) => process.stdout.write(`${line}\n`);
    const [{ buildImage, playbookOnHost }, { preflight }, { ImagePreflightError }, logs] = await Promise.all([
      import('../../image/build.js'), import('../../image/preflight.js'), import('../../image/errors.js'), import('../log.js'),
    ]);
    // Everything that can be checked is, before any stack, droplet or mark is made; exit 2 or 3 says which kind refused.
    const checked = await preflight({
      config,
      jar: { vars: extra, jar: opts.jar, jarUrl: opts.jarUrl, jarChecksum: opts.jarChecksum, jarSha256: opts.jarSha256, minecraftVersion: opts.minecraftVersion, acceptEula: opts.acceptEula },
      for: opts.for,
      fromServer: opts.fromServer,
      world: opts.world,
      host: opts.host,
      force: opts.force ?? false,
      digitalocean: { token: env.digitalocean.token, apiUrl: env.digitalocean.apiUrl },
      log: logs.createLogger(config.log.level === 'debug' ? 'debug' : 'warn'),
    }).catch((err: unknown) => {
      if (!(err instanceof ImagePreflightError)) throw err;
      process.stderr.write(`ood: ${err.message}\n`);
      process.exit(err.exitCode);
    });
    const { vars } = checked;
    if (checked.host !== undefined) return void (await playbookOnHost({ config, vars, say, host: checked.host }));
    const { server, fromServer } = checked;
    const { DoClient } = await import('../drivers/digitalocean/api/client.js');
    const { createLogger } = await import('../log.js');
    // Ctrl-C or a kill: the build leaves its step and removes its builder and keys; a second signal quits at once.
    const interrupted = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (interrupted.signal.aborted) process.exit(130);
      say(`${signal}: stopping the build and removing its builder droplet (${signal} again quits at once, leaving it to the orphan watch)`);
      interrupted.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const result = await buildImage({
      config,
      server,
      env,
      api: new DoClient({ baseUrl: env.digitalocean.apiUrl, token: checked.token }),
      base: opts.base,
      ...(fromServer ? { fromServer } : {}),
      ...(opts.world ? { world: opts.world } : {}),
      keepBuilder: opts.keepBuilder ?? false,
      force: opts.force ?? false,
      useNow: opts.useNow ?? false,
      signal: interrupted.signal,
      vars,
      log: createLogger(config.log.level === 'debug' ? 'debug' : 'warn'),
      say,
    });
    say(`Done: ${result.snapshot.name}; the playbook's log is ${result.logFile}`);
  });

const configCmd = program.command('config').description('work with the config file');
configCmd
  .command('check')
  .description('parse the config and say what it holds, or exactly what is wrong')
  .action(() => {
    const { config, source } = loaded();
    // The same checks `ood serve` makes before it starts: a config this passes, serve accepts.
    validateForServe(config, env);
    process.stdout.write(`${source ?? 'embedded default'} is valid: ${config.servers.length} server(s), data in ${config.dataDir}\n`);
    for (const s of config.servers) {
      const { game, warnings } = describeGame(s);
      const keeps = s.driver === 'local' ? `, keeps ${s.keepArchives} archives` : '';
      process.stdout.write(`  ${s.id}: ${s.driver} driver, game port ${s.game.port}, idle stop after ${formatDuration(s.idle.emptyAfter)} empty / ${formatDuration(s.idle.neverJoined)} unjoined${keeps}\n`);
      if (s.driver === 'digitalocean') {
        const d = s.digitalocean;
        process.stdout.write(`    droplet: ${d.size} in ${d.region}, from the newest of its own snapshots ${s.digitalocean.snapshotPrefix ?? 'ood'}-<installation>-${s.id}-<unix seconds> (or adopted), keeps ${d.keepSnapshots}; SSH from ${d.sshSources.join(', ')}${d.domain ? `; DNS ${s.id}.${d.domain}` : ''}\n`);
      } else {
        process.stdout.write(`    game: ${game}\n`);
      }
      process.stdout.write(`    ${describeBackups(s)}\n`);
      process.stdout.write(`    ${describeLobby(s, listensOnOwnPort(config, s), config.lobby.listen)}\n`);
      for (const warning of warnings) process.stdout.write(`    warning: ${warning}\n`);
    }
    for (const line of describeHostnames(config)) process.stdout.write(`  ${line}\n`);
  });

addDiscordCommands(program, { config: () => loaded().config, env });

/** The API lists the journal oldest first (estimates read it so); people read it newest first, as on the history page. */
const newestFirst = <T>(rows: readonly T[]): T[] => [...rows].reverse();

configCmd
  .command('reload')
  .description('make the running controller read the config file again: what can change while it runs is applied, the rest is named and waits for a restart')
  .action(async () => {
    const { applied, needsRestart } = await client().reloadConfig();
    if (applied.length > 0) process.stdout.write(`Applied: ${applied.join(', ')}\n`);
    if (needsRestart.length > 0) {
      process.stdout.write(`Not applied, restart to apply: ${needsRestart.join(', ')}\n`);
      if (applied.length === 0) process.stdout.write('Nothing else changed\n');
      process.exitCode = 1;
    }
    if (applied.length === 0 && needsRestart.length === 0) process.stdout.write('The config file is as the controller runs it: nothing changed\n');
  });

/** The session a version closed, in a table cell: who started it, who played, how long. */
function worldSession(s: { by: string | null; players: string[]; duration: number } | null): string {
  if (!s) return '-';
  const minutes = Math.max(1, Math.round(s.duration / 60));
  return `${s.by ?? 'unknown'}; ${s.players.length ? s.players.join(', ') : 'nobody played'}; ${minutes < 120 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`}`;
}

function printTable(head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  process.stdout.write([line(head), ...rows.map(line)].join('\n') + '\n');
}

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`ood: ${messageOf(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
