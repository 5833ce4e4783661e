import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { dyingWithParent, fluentFfmpegPath } from '../src/dying.ts';
import { describeFormat, explainFailure, inputGuard } from '../src/guard.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const ways = {
  'execTool (setpriv prefix)': () => dyingWithParent('sleep', ['60']),
  // fluentFfmpegPath sets REEL_MEDIA_FFMPEG in this process; the parent below inherits it
  'fluent-ffmpeg (bin/ffmpeg-dying.sh)': () => ({ command: fluentFfmpegPath('sleep'), args: ['60'] }),
};

for (const [way, command] of Object.entries(ways)) {
  t.test(`a tool started the ${way} way dies when its parent is killed -9`, { skip: process.platform !== 'linux' && 'Linux only' }, async (t) => {
    // a parent process that starts `sleep 60` the way the workers start ffmpeg, then waits
    const parentSource = `
      const { spawn } = require('node:child_process');
      const cmd = ${JSON.stringify(command())};
      const c = spawn(cmd.command, cmd.args, { stdio: 'ignore' });
      process.stdout.write(String(c.pid) + '\\n');
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['-e', parentSource], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
    // the script and setpriv exec: wait for the last one
    const deadline = Date.now() + 2000;
    while (!/^sleep\0/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    t.ok(alive(pid), 'the tool runs');
    t.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /^sleep\0/, 'the pid is the tool itself (exec’d, not a child of a wrapper)');
    const killedAt = Date.now();
    parent.kill('SIGKILL');
    while (alive(pid) && Date.now() - killedAt < 5000) await new Promise((r) => setTimeout(r, 10));
    t.notOk(alive(pid), `gone ${Date.now() - killedAt} ms after its parent`);
  });
}

t.test('inputs are confined to media containers and the protocol of their location', async (t) => {
  const local = inputGuard('/tmp/x/source');
  const remote = inputGuard('https://s3.example/b/k?X-Amz-Signature=x');
  t.same(local.slice(2), ['-protocol_whitelist', 'file']);
  t.same(remote.slice(2), ['-protocol_whitelist', 'http,https,tcp,tls']);
  const formats = (local[1] ?? '').split(',');
  for (const f of ['mov', 'matroska', 'avi', 'mpegts', 'png_pipe', 'jpeg_pipe']) t.ok(formats.includes(f), `${f} allowed`);
  for (const f of ['hls', 'dash', 'concat', 'image2', 'lavfi', 'sdp', 'rtsp', 'webm_dash_manifest']) t.notOk(formats.includes(f), `${f} refused`);
});

t.test('a failure explained: the refused format, the network, or the media, in one clean line', async (t) => {
  const url = 'http://127.0.0.1:9000/reel-sources/sources/x/original?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=abc';
  const refused = explainFailure(`[hls @ 0x5558d8fae500] Format not on whitelist 'mov,matroska'\n${url}: Invalid argument\n`, url);
  t.same(refused, { transient: false, reason: 'not a supported media container', refusedFormat: 'hls' });
  t.equal(describeFormat('hls'), 'an HLS playlist');
  t.equal(describeFormat('ogg'), 'a ogg file');
  const down = explainFailure(`[tcp @ 0x1] Connection to tcp://127.0.0.1:9000 failed: Connection refused\n${url}: Connection refused\n`, url);
  t.same(down, { transient: true, reason: 'Connection refused' });
  const media = explainFailure('[h264 @ 0x2] no frame!\nError while decoding stream #0:0: Invalid data found when processing input\nConversion failed!\n');
  t.same(media, { transient: false, reason: 'Error while decoding stream #0:0: Invalid data found when processing input' });
  const other = explainFailure(`[http @ 0x3] Opening '${url}' for reading\nsomething odd at ${url}`);
  t.notMatch(other.reason, /AKIA|abc|http/);
  t.equal(explainFailure('').reason, 'unknown error');
  // a remote source cut off mid-read (the S3 server stopped) is retried; a local file's end is the file's
  const cut = explainFailure(`[http @ 0x4] Stream ends prematurely at 1048576, should be 56531407\n${url}: End of file\n`, url);
  t.same(cut, { transient: true, reason: 'End of file' });
  t.equal(explainFailure(`${url}: End of file\n`, url).transient, true);
  t.equal(explainFailure('/w/source: End of file\n', '/w/source').transient, false);
});
