import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ImagePreflightError } from './errors.js';

/** `ood image build`'s options that say which server.jar the image gets, and the EULA answer. */
export interface JarOptions {
  /** A server.jar on this machine. */
  jar?: string;
  jarUrl?: string;
  /** `sha1:<hex>`, `sha256:<hex>`, or bare hex of 40 (sha1) or 64 (sha256) digits. */
  jarChecksum?: string;
  /** The older option: a sha256 only. */
  jarSha256?: string;
  /** The builder resolves the jar's URL and sha1 from Mojang's version manifest itself. */
  minecraftVersion?: string;
  acceptEula?: boolean;
  /** `--var key=value`, parsed: they may name the jar too, and win over the options above. */
  vars: Record<string, unknown>;
}

export interface Checksum {
  algorithm: 'sha1' | 'sha256';
  hex: string;
}

const EXPECTED = 'expected sha1:<40 hex digits>, sha256:<64 hex digits>, or bare hex of 40 (sha1) or 64 (sha256) digits';
const EULA_URL = 'https://aka.ms/MinecraftEULA';
// Release ids ("1.21.4"), snapshots ("24w14a"), candidates ("1.21.4-rc1") and the old pre-releases with spaces.
const VERSION_ID = /^[0-9A-Za-z][0-9A-Za-z._ -]{0,63}$/;

/** A checksum as Mojang's manifest gives it (sha1) or as `sha256sum` prints it; `what` names the option in the error. */
export function parseChecksum(text: string, what: string): Checksum {
  const value = text.trim().toLowerCase();
  const prefixed = /^(sha1|sha256):([0-9a-f]+)$/.exec(value);
  const [algorithm, hex] = prefixed ? [prefixed[1] as Checksum['algorithm'], prefixed[2]!] : [value.length === 40 ? 'sha1' : 'sha256', value] as const;
  if (/^[0-9a-f]+$/.test(hex) && hex.length === (algorithm === 'sha1' ? 40 : 64)) return { algorithm, hex };
  throw new ImagePreflightError('arguments', `${what} "${text}" is not a checksum: ${EXPECTED}`);
}

const given = (value: unknown): value is string | number => (typeof value === 'string' && value.trim().length > 0) || typeof value === 'number';
const truthy = (value: unknown) => value === true || (typeof value === 'string' && /^(true|yes|1)$/i.test(value.trim()));

/**
 * The playbook variables for the jar and the EULA, or an `ImagePreflightError` naming what is wrong:
 * exactly one source (`--minecraft-version`, `--jar-url` with a checksum, or `--jar`), a well-formed
 * checksum (a local jar is checked against it here), and the EULA accepted. Nothing is fetched.
 */
export function jarVars(o: JarOptions): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  if (o.minecraftVersion !== undefined) vars.minecraft_version = o.minecraftVersion;
  if (o.jarUrl !== undefined) vars.minecraft_server_url = o.jarUrl;
  if (o.jar !== undefined) vars.minecraft_server_jar_src = o.jar;
  if (o.acceptEula) vars.minecraft_accept_eula = true;
  Object.assign(vars, o.vars);

  // Each source by the option a person would use, or by the variable when it came through --var.
  const label = (key: string, flag: string) => (key in o.vars ? `--var ${key}` : flag);
  const sources = [
    ['minecraft_version', label('minecraft_version', '--minecraft-version')],
    ['minecraft_server_url', label('minecraft_server_url', '--jar-url')],
    ['minecraft_server_jar_src', label('minecraft_server_jar_src', '--jar')],
  ].filter(([key]) => given(vars[key!]));
  if (sources.length === 0) {
    throw new ImagePreflightError('arguments',
      'Say where server.jar comes from: --minecraft-version <id> (the builder looks the jar and its sha1 up in Mojang\'s version manifest), ' +
        '--jar-url <url> with --jar-checksum <sha1:… or sha256:…>, or --jar <file> (a jar on this machine)');
  }
  if (sources.length > 1) throw new ImagePreflightError('arguments', `Choose one source for server.jar, not two: ${sources.map(([, flag]) => flag).join(', ')}`);
  const [source] = sources[0]!;

  const checksumGiven = ([
    [label('minecraft_server_checksum', '--jar-checksum'), o.vars.minecraft_server_checksum ?? o.jarChecksum],
    [label('minecraft_server_sha256', '--jar-sha256'), o.vars.minecraft_server_sha256 ?? o.jarSha256],
  ] as [string, unknown][]).filter(([, value]) => given(value));
  if (checksumGiven.length > 1) throw new ImagePreflightError('arguments', `Give the jar's checksum once: ${checksumGiven.map(([flag]) => flag).join(' and ')} are both set`);
  delete vars.minecraft_server_sha256;
  delete vars.minecraft_server_checksum;
  let checksum: Checksum | undefined;
  if (checksumGiven[0]) {
    const [flag, value] = checksumGiven[0];
    if (flag.endsWith('sha256')) {
      checksum = { algorithm: 'sha256', hex: String(value).trim().toLowerCase() };
      if (!/^[0-9a-f]{64}$/.test(checksum.hex)) throw new ImagePreflightError('arguments', `${flag} "${String(value)}" is not a sha256: expected 64 hex digits (for a sha1 use --jar-checksum sha1:<hex>)`);
    } else {
      checksum = parseChecksum(String(value), flag);
    }
  }

  if (source === 'minecraft_version') {
    const id = String(vars.minecraft_version).trim();
    if (!VERSION_ID.test(id)) throw new ImagePreflightError('arguments', `--minecraft-version "${id}" is not a Minecraft version id such as 1.21.4 or 24w14a`);
    vars.minecraft_version = id;
    if (checksum) throw new ImagePreflightError('arguments', "--jar-checksum goes with --jar-url or --jar; with --minecraft-version the sha1 comes from Mojang's version manifest");
  } else if (source === 'minecraft_server_url') {
    const url = String(vars.minecraft_server_url);
    if (!/^https?:\/\/[^\s/]+/.test(url)) throw new ImagePreflightError('arguments', `--jar-url "${url}" is not an http(s) URL`);
    if (!checksum) {
      throw new ImagePreflightError('arguments',
        '--jar-url needs --jar-checksum: sha1:<40 hex digits> or sha256:<64 hex digits> of a jar you trust (Mojang lists each server jar\'s sha1 ' +
          'in its version manifest; or pass --minecraft-version <id> and let the builder look both up)');
    }
  } else {
    const file = String(vars.minecraft_server_jar_src);
    let isFile: boolean;
    try {
      isFile = statSync(file).isFile();
    } catch (err) {
      throw new ImagePreflightError('arguments', `--jar ${file}: no such file`, { cause: err });
    }
    if (!isFile) throw new ImagePreflightError('arguments', `--jar ${file} is not a file`);
    if (checksum) {
      const actual = createHash(checksum.algorithm).update(readFileSync(file)).digest('hex');
      if (actual !== checksum.hex) throw new ImagePreflightError('arguments', `--jar ${file} has ${checksum.algorithm} ${actual}, not the ${checksum.hex} given: is it the jar you meant?`);
    }
  }
  if (checksum) vars.minecraft_server_checksum = `${checksum.algorithm}:${checksum.hex}`;

  if (!truthy(vars.minecraft_accept_eula)) {
    throw new ImagePreflightError('eula',
      `Minecraft's server runs only for those who accept Mojang's EULA (${EULA_URL}): read it, then pass --accept-eula ` +
        '(the image\'s eula.txt says eula=true only then; without it the game would exit at its first start)');
  }
  vars.minecraft_accept_eula = true;
  return vars;
}
