import { describe, expect, it } from 'vitest';
import { ANSIBLE_DIR, runCommand } from './chroot-playbook.js';

// Debian's ansible-core 2.14 and ansible-lint 6.13: the oldest versions the role promises to work on.
describe('ansible/ passes its static checks', () => {
  it('ansible-playbook --syntax-check site.yml exits 0', async () => {
    const result = await runCommand('ansible-playbook', ['--syntax-check', '-i', 'localhost,', 'site.yml'], { cwd: ANSIBLE_DIR, timeoutMs: 60_000 });
    expect(result.code, result.output).toBe(0);
  });

  it('ansible-lint (production profile, from .ansible-lint) exits 0', async () => {
    const env = { ...process.env, NO_COLOR: '1' };
    const result = await runCommand('ansible-lint', [], { cwd: ANSIBLE_DIR, env, timeoutMs: 110_000 });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/Passed with production profile/);
  });
});
