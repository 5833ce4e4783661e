// reel — the command line of the platform (bin/reel.js starts this file with a Node that runs TypeScript).
import { CliError } from './api.ts';
import { run } from './cli.ts';

/** Never lets a token through into an error message. */
function redact(s: string): string {
  const token = process.env.REEL_TOKEN?.trim();
  const r = token ? s.split(token).join('***') : s;
  return r.replace(/(access_token=|Bearer\s+)[\w.-]+/gi, '$1***');
}

try {
  process.exitCode = await run(process.argv.slice(2));
} catch (err) {
  const message = err instanceof CliError ? err.message : ((err as Error)?.stack ?? String(err));
  process.stderr.write(`reel: ${redact(message)}\n`);
  process.exitCode = err instanceof CliError ? err.exitCode : 1;
}
