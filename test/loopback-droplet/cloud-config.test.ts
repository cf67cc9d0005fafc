import { sshKeyPair } from '../../controller/drivers/digitalocean/keys.js';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { hostKeyFromUserData } from './cloud-config.js';

const key = sshKeyPair('ood-survival');

describe('the host key in a droplet user data', () => {
  it('is read from cloud-config ssh_keys, with the newline sshd needs at the end of the private key', () => {
    const userData = `#cloud-config\n${stringify({ ssh_deletekeys: true, ssh_keys: { ed25519_private: key.private.trimEnd(), ed25519_public: key.public } })}`;
    expect(hostKeyFromUserData(userData)).toEqual({ privateKey: `${key.private.trimEnd()}\n`, publicKey: key.public });
  });

  it('is absent without user data, without cloud-config, or without ssh_keys', () => {
    expect(hostKeyFromUserData('')).toBeUndefined();
    expect(hostKeyFromUserData('#!/bin/sh\necho hi\n')).toBeUndefined();
    expect(hostKeyFromUserData('#cloud-config\npackages: [htop]\n')).toBeUndefined();
  });

  it('fails loudly on broken cloud-config or half a key pair', () => {
    expect(() => hostKeyFromUserData('#cloud-config\nssh_keys: [unclosed\n')).toThrow(/not valid cloud-config YAML/);
    expect(() => hostKeyFromUserData(`#cloud-config\n${stringify({ ssh_keys: { ed25519_public: key.public } })}`)).toThrow(/both ed25519_private and ed25519_public/);
  });
});
