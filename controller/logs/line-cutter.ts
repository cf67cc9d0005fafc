/** The longest line the console keeps; the rest of a longer one, up to its newline, is dropped. */
export const MAX_LINE_BYTES = 8 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a log's bytes into clean lines as they come. Memory stays bounded by one line's
 * MAX_LINE_BYTES whatever the game writes: a 1 MB line is counted, not kept. Bytes are decoded per
 * line, so a character split across two reads is whole again, and invalid UTF-8 becomes U+FFFD.
 */
export class LineCutter {
  private parts: Buffer[] = [];
  private kept = 0;
  private dropped = 0;
  /** The last byte seen of the current line (kept or dropped), to tell CRLF from LF. */
  private lastByte = -1;

  constructor(private readonly maxBytes = MAX_LINE_BYTES) {}

  /** The lines that `bytes` completes, cleaned; a partial last line waits for its end. */
  push(bytes: Buffer): string[] {
    const lines: string[] = [];
    let from = 0;
    while (from < bytes.length) {
      const newline = bytes.indexOf(LF, from);
      const to = newline === -1 ? bytes.length : newline;
      this.take(bytes.subarray(from, to));
      if (newline === -1) break;
      lines.push(this.finish(true));
      from = newline + 1;
    }
    return lines;
  }

  /** The partial line waiting for its newline, if any (the file ended, was truncated or rotated). */
  flush(): string | null {
    if (this.kept === 0 && this.dropped === 0) return null;
    return this.finish(false);
  }

  private take(segment: Buffer): void {
    if (segment.length === 0) return;
    this.lastByte = segment[segment.length - 1]!;
    const room = this.maxBytes - this.kept;
    if (room > 0) {
      const part = segment.length <= room ? segment : segment.subarray(0, room);
      // A copy: the reader may reuse its buffer, and a slice would pin a whole 64 KiB read.
      this.parts.push(Buffer.from(part));
      this.kept += part.length;
    }
    this.dropped += Math.max(0, segment.length - Math.max(room, 0));
  }

  private finish(byNewline: boolean): string {
    let bytes = Buffer.concat(this.parts, this.kept);
    let dropped = this.dropped;
    const crlf = byNewline && this.lastByte === CR;
    if (crlf) {
      if (dropped > 0) dropped -= 1;
      else bytes = bytes.subarray(0, bytes.length - 1);
    }
    if (dropped > 0) {
      // Cut on a character boundary: the kept part's last character may have lost its tail.
      const boundary = charBoundary(bytes);
      dropped += bytes.length - boundary;
      bytes = bytes.subarray(0, boundary);
    }
    this.parts = [];
    this.kept = 0;
    this.dropped = 0;
    this.lastByte = -1;
    const text = cleanLine(bytes.toString('utf8'));
    return dropped > 0 ? `${text}… (cut: ${dropped} bytes)` : text;
  }
}

/** The length of `bytes` without a trailing UTF-8 sequence that its end cut short. */
function charBoundary(bytes: Buffer): number {
  // A sequence is at most 4 bytes: look back at most 3 for its lead byte.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: the lead is further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

// ESC [ parameters intermediates final: colours and cursor moves of terminals (ECMA-48 CSI).
const CSI = /\u001b\[[0-?]*[ -/]*[@-~]/g;
// Minecraft's legacy formatting: § and one code character (colours 0-9a-f, k-o styles, r reset, x hex).
const SECTION_CODE = /§[0-9a-fk-orx]/gi;
// C0 but TAB, DEL, and C1: none belongs in a line a page or a terminal shows.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

/** A decoded line as the console shows it: colour codes gone, other controls visible as U+FFFD. */
export function cleanLine(text: string): string {
  return text.replace(CSI, '').replace(SECTION_CODE, '').replace(CONTROL, '\ufffd');
}
