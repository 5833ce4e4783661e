import t from 'tap';
import { redactUrl } from '../src/plugins/tracing.ts';

t.test('tokens never reach the request log', async (t) => {
  t.equal(redactUrl('/v1/videos/x/events?access_token=eyJ.abc.def'), '/v1/videos/x/events?access_token=[redacted]');
  t.equal(redactUrl('/v1/videos/x/hls/master.m3u8?token=123.sig&foo=1'), '/v1/videos/x/hls/master.m3u8?token=[redacted]&foo=1');
  t.equal(redactUrl('/v1/videos?q=token'), '/v1/videos?q=token');
});
