import { createHash } from 'node:crypto';

/**
 * A player's head as a small SVG drawn from their name: skins live on Mojang's servers, which OoD
 * does not call (and the page's CSP would not load), so each name gets its own stable 8×8 face —
 * hair, skin, eyes — that a friend's eye learns as quickly as the real one.
 */
export function headSvg(name: string): string {
  const hash = createHash('sha256').update(name.toLowerCase()).digest();
  const hue = (i: number) => Math.round((hash[i]! / 255) * 360);
  const skin = `hsl(${20 + (hash[0]! % 20)} ${35 + (hash[1]! % 30)}% ${45 + (hash[2]! % 35)}%)`;
  const hair = `hsl(${hue(3)} ${30 + (hash[4]! % 50)}% ${15 + (hash[5]! % 35)}%)`;
  const eyes = `hsl(${hue(6)} 60% 35%)`;
  const fringe = 1 + (hash[7]! % 3);
  const rects = [`<rect width="8" height="8" fill="${skin}"/>`, `<rect width="8" height="${fringe}" fill="${hair}"/>`];
  // Sideburns for some names, as skins have.
  if (hash[8]! % 2 === 0) rects.push(`<rect y="${fringe}" width="1" height="2" fill="${hair}"/><rect x="7" y="${fringe}" width="1" height="2" fill="${hair}"/>`);
  rects.push(`<rect x="1" y="4" width="2" height="1" fill="#fff"/><rect x="2" y="4" width="1" height="1" fill="${eyes}"/>`);
  rects.push(`<rect x="5" y="4" width="2" height="1" fill="#fff"/><rect x="5" y="4" width="1" height="1" fill="${eyes}"/>`);
  rects.push(`<rect x="3" y="6" width="2" height="1" fill="hsl(0 30% 30%)"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8" shape-rendering="crispEdges">${rects.join('')}</svg>`;
}

/** A Minecraft player name: 3–16 letters, digits and underscores (offline servers allow a little more). */
export const PLAYER_NAME = /^[A-Za-z0-9_]{1,16}$/;
