import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { dyingWithParent } from './dying.ts';

const execFileP = promisify(execFile);

/** What a failed execTool rejects with (node's execFile error). */
export type ExecFailure = { code?: unknown; stderr?: string; killed?: boolean; signal?: string | null };

/**
 * ffprobe and other short tools whose stdout is the answer: killed with this process
 * (dyingWithParent), on `signal`, or after `timeoutMs`. fluent-ffmpeg's own ffprobe has neither an
 * abort nor a timeout and reparses the output, so probing stays on execFile with JSON.
 */
export async function execTool(bin: string, args: string[], opts: { signal?: AbortSignal; timeoutMs?: number; maxBuffer?: number } = {}): Promise<string> {
  const cmd = dyingWithParent(bin, args);
  const { stdout } = await execFileP(cmd.command, cmd.args, {
    signal: opts.signal,
    timeout: opts.timeoutMs ?? 60_000,
    killSignal: 'SIGKILL',
    maxBuffer: opts.maxBuffer ?? 16 * 1024 * 1024,
  });
  return stdout;
}
