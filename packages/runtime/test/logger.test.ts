import { Writable } from 'node:stream';
import t from 'tap';
import { createLogger, redactCredentials } from '../src/logger.ts';

const URL =
  'http://127.0.0.1:9000/reel-sources/sources/0b2e/original?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=test%3Atester%2F20261127%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261127T081000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=5f1c0ffee';
const SECRETS = ['test%3Atester', '5f1c0ffee'];

function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const out = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, log: createLogger('test', 'info', out) };
}

t.test('a presigned URL keeps its shape but loses its credential and signature', async (t) => {
  const r = redactCredentials(`ffprobe failed: ${URL}: Invalid data`);
  for (const s of SECRETS) t.notMatch(r, s);
  t.match(r, 'X-Amz-Credential=[redacted]');
  t.match(r, 'X-Amz-Signature=[redacted]');
  t.match(r, 'X-Amz-Expires=3600');
  t.match(r, '/reel-sources/sources/0b2e/original?');
  t.equal(redactCredentials('nothing to hide'), 'nothing to hide');
  t.equal(redactCredentials('x-amz-security-token=abc&y=1'), 'x-amz-security-token=[redacted]&y=1');
});

t.test('no log line carries a credential: message, fields, errors, causes, bindings', async (t) => {
  const { lines, log } = capture();
  log.info(`probing ${URL}`);
  log.info({ url: URL, nested: { list: [URL] } }, 'fields');
  const cause = Object.assign(new Error(`Command failed: ffprobe -v error ${URL}`), { cmd: `ffprobe ${URL}`, stderr: `${URL}: Connection refused` });
  log.warn({ err: new Error('could not read the source', { cause }) }, 'handler failed; will retry');
  log.error(cause);
  log.child({ source: URL }).info({}, 'child');
  log.info({ err: new Error(URL) }, 'format %s', URL);
  t.equal(lines.length, 6);
  for (const line of lines) {
    for (const s of SECRETS) t.notMatch(line, s, line);
    JSON.parse(line);
  }
  const warn = JSON.parse(lines[2] ?? '{}');
  t.match(warn.err.message, 'could not read the source');
  t.match(warn.err.stack, 'Error: could not read the source');
  t.match(JSON.stringify(warn.err), 'X-Amz-Credential=[redacted]', 'the cause is still there, redacted');
  t.equal(JSON.parse(lines[3] ?? '{}').err.stderr.endsWith(': Connection refused'), true);
});

t.test('ordinary lines are untouched', async (t) => {
  const { lines, log } = capture();
  log.info({ videoId: 'abc', n: 3, when: new Date(0) }, 'plain');
  const o = JSON.parse(lines[0] ?? '{}');
  t.equal(o.msg, 'plain');
  t.equal(o.videoId, 'abc');
  t.equal(o.n, 3);
  t.equal(o.when, '1970-01-01T00:00:00.000Z');
  t.equal(o.service, 'test');
});
