import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { processAlive } from './process-alive.js';

/**
 * What `ood image build` writes before it makes its builder droplet, and removes when the builder is
 * gone: which build, which process, which stack. While the process lives, the controller refuses to
 * start the server (a build snapshots a world; a session beside it would be lost or overwritten).
 * When the process is gone, the mark speaks for nothing, and its builder, if any is left, is an orphan.
 */
export interface ImageBuildMark {
  server: string;
  /** The build's name: its log file's stem, `<unix seconds>`. */
  build: string;
  pid: number;
  /** The builder's Pulumi stack. */
  stack: string;
  startedAt: string;
}

/** A start refused because an image build for the server runs: the API answers 409 with this text. */
export class ImageBuildRunningError extends Error {
  readonly status = 409;
  readonly expose = true;
  constructor(readonly mark: ImageBuildMark) {
    super(
      `${mark.server} cannot start while \`ood image build\` ${mark.build} runs for it (process ${mark.pid}, stack ${mark.stack}, since ${mark.startedAt}); ` +
        'try again when the build is done',
    );
    this.name = 'ImageBuildRunningError';
  }
}

export function imageBuildMarkPath(dataDir: string, server: string): string {
  return join(dataDir, 'image-builds', 'running', `${server}.json`);
}

/** The server's mark while its build process lives; null without one, or when that process is gone. */
export function runningImageBuild(dataDir: string, server: string): ImageBuildMark | null {
  const mark = readMark(imageBuildMarkPath(dataDir, server));
  return mark && processAlive(mark.pid) ? mark : null;
}

/** Every mark whose process is alive (for the orphan watch: their builders are owned). */
export function runningImageBuilds(dataDir: string): ImageBuildMark[] {
  const dir = dirname(imageBuildMarkPath(dataDir, 'x'));
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const mark = readMark(join(dir, f));
      return mark && processAlive(mark.pid) ? [mark] : [];
    });
}

/**
 * Sets the mark, or returns the live one of another build (then nothing is written). A mark left by
 * a process that is gone (kill -9) is replaced.
 */
export function setImageBuildMark(dataDir: string, mark: ImageBuildMark): ImageBuildMark | null {
  const path = imageBuildMarkPath(dataDir, mark.server);
  mkdirSync(dirname(path), { recursive: true });
  const other = runningImageBuild(dataDir, mark.server);
  if (other && other.pid !== mark.pid) return other;
  writeFileSync(path, `${JSON.stringify(mark)}\n`, { mode: 0o600 });
  return null;
}

/** Clears the mark, only if it is this process's own. */
export function clearImageBuildMark(dataDir: string, server: string, pid = process.pid): void {
  const path = imageBuildMarkPath(dataDir, server);
  if (readMark(path)?.pid === pid) rmSync(path, { force: true });
}

function readMark(path: string): ImageBuildMark | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ImageBuildMark;
  } catch {
    return null;
  }
}

