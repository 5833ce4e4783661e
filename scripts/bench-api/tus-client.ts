/**
 * A tus upload with tus-js-client, in a process of its own (as curl is for the other paths): the
 * benchmark's own process holds the platform's supervision and a large heap, and a client inside
 * it paid for that heap's collections (3 CPU-s of GC per few uploads in a profile).
 *
 *   node scripts/bench-api/tus-client.ts <endpoint> <token> <file> [chunk MiB | whole]
 *
 * Prints the upload's milliseconds, from its start to tus-js-client's success (process start-up
 * not counted, as curl's time_total does not count curl's), and exits 1 on a failure.
 */
import { createReadStream, statSync } from 'node:fs';
import { Upload } from 'tus-js-client';

const [endpoint, token, path, chunk = 'whole'] = process.argv.slice(2);
if (!endpoint || !token || !path) {
  console.error('usage: tus-client.ts <endpoint> <token> <file> [chunk MiB | whole]');
  process.exit(2);
}

/** A tus upload of `path`, in PATCHes of `chunkSize` bytes (Infinity: tus-js-client's default, one PATCH); resolves with its milliseconds. */
function tusUpload(endpoint: string, token: string, path: string, chunkSize: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // a file stream with its path: tus-js-client reads each PATCH's range from the file itself
    const up = new Upload(createReadStream(path), {
      endpoint,
      headers: { authorization: `Bearer ${token}` },
      metadata: { filename: 'bench.bin', title: 'bench' },
      uploadSize: statSync(path).size,
      chunkSize,
      retryDelays: [],
      onSuccess: () => resolve(performance.now() - started),
      onError: reject,
    });
    up.start();
  });
}

try {
  const ms = await tusUpload(endpoint, token, path, chunk === 'whole' ? Number.POSITIVE_INFINITY : Number(chunk) * 1024 * 1024);
  console.log(ms.toFixed(0));
} catch (err) {
  console.error(err);
  process.exitCode = 1;
}
