import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CliError } from './errors.js';

/**
 * The passphrase secrets manager, shaped like the real one: a salt stored as
 * `v1:<salt>:<encrypted "pulumi">` (so a wrong passphrase is detected), values as `v1:<nonce>:<ciphertext>`,
 * AES-256-GCM with a PBKDF2 key. Fewer PBKDF2 rounds than the real CLI: every command derives the key.
 */
const ROUNDS = 100_000;

export class PassphraseSecrets {
  private constructor(
    private readonly key: Buffer,
    readonly salt: string,
  ) {}

  static create(passphrase: string): PassphraseSecrets {
    const raw = randomBytes(8);
    const key = deriveKey(passphrase, raw);
    const check = encryptWith(key, 'pulumi');
    return new PassphraseSecrets(key, `v1:${raw.toString('base64')}:${check}`);
  }

  static open(passphrase: string, salt: string): PassphraseSecrets {
    const parts = salt.split(':');
    if (parts.length !== 5 || parts[0] !== 'v1') throw new CliError(`the stack's encryption salt is malformed: ${salt}`);
    const key = deriveKey(passphrase, Buffer.from(parts[1] as string, 'base64'));
    let check: string;
    try {
      check = decryptWith(key, parts.slice(2).join(':'));
    } catch (err) {
      throw new CliError(INCORRECT, 255, { cause: err });
    }
    if (check !== 'pulumi') throw new CliError(INCORRECT);
    return new PassphraseSecrets(key, salt);
  }

  encrypt(plaintext: string): string {
    return encryptWith(this.key, plaintext);
  }

  decrypt(ciphertext: string): string {
    try {
      return decryptWith(this.key, ciphertext);
    } catch (err) {
      throw new CliError(`failed to decrypt a secret value: ${(err as Error).message}`, 255, { cause: err });
    }
  }
}

const INCORRECT =
  'incorrect passphrase, please set PULUMI_CONFIG_PASSPHRASE to the correct passphrase or set PULUMI_CONFIG_PASSPHRASE_FILE to a file containing the passphrase';

/** Reads the passphrase the way the real CLI does; an empty variable is a valid (empty) passphrase. */
export function readPassphrase(env: NodeJS.ProcessEnv): string {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  if (env.PULUMI_CONFIG_PASSPHRASE_FILE) return readFileSync(env.PULUMI_CONFIG_PASSPHRASE_FILE, 'utf8').replace(/\r?\n$/, '');
  throw new CliError(
    'getting secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables',
  );
}

function deriveKey(passphrase: string, salt: Buffer): Buffer {
  return pbkdf2Sync(passphrase, salt, ROUNDS, 32, 'sha256');
}

function encryptWith(key: Buffer, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `v1:${nonce.toString('base64')}:${body.toString('base64')}`;
}

function decryptWith(key: Buffer, value: string): string {
  const [version, nonce, body] = value.split(':');
  if (version !== 'v1' || !nonce || !body) throw new Error('unknown ciphertext format');
  const bytes = Buffer.from(body, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64'));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
}
