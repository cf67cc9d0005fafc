import { describe, expect, it } from 'vitest';
import { readEnv } from '../config/env.js';
import { configSchema } from '../config/schema.js';
import { greeting } from './serve.js';

const banner = (server: Record<string, unknown>) => {
  const config = configSchema.parse({ servers: [{ id: 'world', ...server }] });
  return greeting('http://127.0.0.1:8080', { config, source: 'ood.yaml' } as never, readEnv({}), undefined);
};

describe('the start-up banner says where players connect', () => {
  it('a local server: its public host and port', () => {
    expect(banner({ game: { port: 25600 }, local: { publicHost: 'mc.example.com' } })).toContain('server "world": players join mc.example.com:25600 once it runs');
  });

  it('a DigitalOcean server with a domain: its DNS name', () => {
    const text = banner({ driver: 'digitalocean', game: { port: 25600 }, digitalocean: { domain: 'example.com' } });
    expect(text).toContain('server "world": players join world.example.com:25600 once it runs');
    expect(text).not.toContain('localhost');
  });

  it('a DigitalOcean server behind the lobby proxy: the lobby address, at any time', () => {
    const text = banner({ driver: 'digitalocean', game: { port: 25600 }, lobby: { mode: 'proxy', publicHost: 'lobby.example.com' } });
    expect(text).toContain('server "world": players join lobby.example.com:25600 (the lobby; joining wakes it)');
  });

  it('a DigitalOcean server with a wake lobby: wake here, then the droplet', () => {
    const text = banner({ driver: 'digitalocean', game: { port: 25600 }, lobby: { mode: 'wake' } });
    expect(text).toContain("server \"world\": players wake it by joining this machine's port 25600 (the lobby); once it runs they join the droplet's address, shown once it runs");
  });

  it('a server behind the shared lobby in proxy mode: its host name and the shared lobby\'s port', () => {
    const config = configSchema.parse({ lobby: { listen: '0.0.0.0:25570' }, servers: [{ id: 'world', driver: 'digitalocean', game: { port: 25600 }, lobby: { mode: 'proxy', publicHost: 'lobby.example.com', hostnames: ['world.example.com'] } }] });
    const text = greeting('http://127.0.0.1:8080', { config, source: 'ood.yaml' } as never, readEnv({}), undefined);
    expect(text).toContain('server "world": players join world.example.com:25570 (the lobby; joining wakes it)');
  });

  it('a DigitalOcean server with neither: the droplet address, shown once it runs', () => {
    const text = banner({ driver: 'digitalocean' });
    expect(text).toContain(`server "world": players join the droplet's address, shown once it runs`);
    expect(text).not.toContain('localhost');
  });
});
