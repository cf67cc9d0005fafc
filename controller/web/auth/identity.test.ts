import { describe, expect, it } from 'vitest';
import { oauth2Identity, oidcIdentity } from './identity.js';

// Profiles in the shapes GitHub (GET /user) and Discord (GET /users/@me) document.
const github = { login: 'octocat', id: 583231, avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4', name: 'The Octocat', type: 'User' };
const discord = { id: '80351110224678912', username: 'nelly', global_name: 'Nelly', avatar: '8342729096ea3675442027381ff50dfe', discriminator: '0' };

describe('identities from providers', () => {
  it('maps GitHub and Discord profiles to provider:id, a name and an https avatar', () => {
    expect(oauth2Identity('github', github)).toEqual({ identity: 'github:583231', name: 'The Octocat', avatar: github.avatar_url });
    expect(oauth2Identity('github', { ...github, name: null }).name).toBe('octocat');
    expect(oauth2Identity('discord', discord)).toEqual({
      identity: 'discord:80351110224678912',
      name: 'Nelly',
      avatar: 'https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png?size=64',
    });
    expect(oauth2Identity('discord', { ...discord, global_name: null, avatar: null })).toMatchObject({ name: 'nelly', avatar: null });
  });

  it('says why a profile is unusable, including a failed profile request', () => {
    expect(() => oauth2Identity('github', { error: { message: 'Bad credentials' } })).toThrow(/GitHub sent no usable profile: the profile request failed \(.*Bad credentials/);
    expect(() => oauth2Identity('discord', { id: 5 })).toThrow(/Discord sent no usable profile: id/);
  });

  it('takes an OpenID name from name, preferred_username or email, and drops a picture that is not https', () => {
    expect(oidcIdentity('keycloak', { sub: 'abc', preferred_username: 'kim', picture: 'javascript:alert(1)' })).toEqual({ identity: 'keycloak:abc', name: 'kim', avatar: null });
    expect(oidcIdentity('google', { sub: '1', email: 'a@example.com', picture: 'https://lh3.googleusercontent.com/a/x' })).toEqual({
      identity: 'google:1',
      name: 'a@example.com',
      avatar: 'https://lh3.googleusercontent.com/a/x',
    });
  });
});
