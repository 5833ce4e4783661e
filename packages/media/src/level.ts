import { execTool } from './exec.ts';
import { inputGuard } from './guard.ts';

/** H.264 level x264 chose for a segment (e.g. 31), read back so CODECS tells the truth; 40 when unknown. */
export async function h264Level(ffprobe: string, file: string, signal?: AbortSignal): Promise<number> {
  const args = ['-v', 'error', ...inputGuard(file), '-select_streams', 'v:0', '-show_entries', 'stream=level', '-of', 'csv=p=0', file];
  const stdout = await execTool(ffprobe, args, { timeoutMs: 30_000, ...(signal ? { signal } : {}) });
  const level = Number.parseInt(stdout.trim(), 10);
  return Number.isFinite(level) && level > 0 ? level : 40;
}
