/**
 * The User-Agent Discord's HTTP API asks every client for, in its required form
 * `DiscordBot ($url, $versionNumber)` (https://discord.com/developers/docs/reference#user-agent);
 * interaction follow-ups share "the same header requirements as normal HTTP API requests". The version
 * is package.json's (user-agent.test.ts keeps them equal). Discord does not check the URL, and OoD has
 * no public home to name: `ood.invalid` is a name reserved never to resolve (RFC 2606), not a guess.
 */
export const OOD_VERSION = '0.1.0';
export const DISCORD_USER_AGENT = `DiscordBot (https://ood.invalid, ${OOD_VERSION})`;
