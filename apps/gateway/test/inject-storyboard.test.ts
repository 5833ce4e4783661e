// The storyboard VTT of a video cut into chunks names one sprite per chunk: each is signed, nothing else is.
import { keys } from '@reel/storage';
import t from 'tap';
import { build, video } from './helper.ts';

const ID = '0b6c1f6e-5d1a-4c3b-9e2f-7a8b9c0d1e2f';

t.test('every sprite the storyboard names is a presigned URL of that sprite; any other line is left as it is', async (t) => {
  const { app, world, playbackToken } = await build(t.teardown);
  world.records.set(ID, video(ID, 'alice', { status: 'ready', visibility: 'public' }));
  const cue = (from: number, sprite: string, x: number) => `00:00:0${from}.000 --> 00:00:0${from + 1}.000\n${sprite}#xywh=${x},0,160,90\n`;
  const text = [
    'WEBVTT\n',
    cue(0, 'storyboard-0000.jpg', 0),
    cue(1, 'storyboard-0000.jpg', 160),
    cue(4, 'storyboard-0001.jpg', 0),
    cue(5, '../../other/x.jpg', 0),
  ].join('\n');
  world.objects.set(`reel-media/${keys.storyboardVtt(ID)}`, text);
  const res = await app.inject({ url: `/v1/videos/${ID}/storyboard.vtt?token=${playbackToken(ID)}` });
  t.equal(res.statusCode, 200);
  const sprites = res.body.split('\n').filter((l) => l.includes('#xywh='));
  t.match(sprites[0], new RegExp(`^https://s3\\.test/reel-media/videos/${ID}/images/storyboard-0000\\.jpg\\?ttl=\\d+#xywh=0,0,160,90$`));
  t.match(sprites[1], /storyboard-0000\.jpg\?ttl=\d+#xywh=160,0,160,90$/, 'the same sprite again');
  t.match(
    sprites[2],
    new RegExp(`^https://s3\\.test/reel-media/videos/${ID}/images/storyboard-0001\\.jpg\\?ttl=\\d+#xywh=0,0,160,90$`),
    "the next chunk's sprite",
  );
  t.equal(sprites[3], '../../other/x.jpg#xywh=0,0,160,90', 'a name that is not a sprite of this video is not signed');
});
