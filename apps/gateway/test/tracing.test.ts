import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeClip, startTestPlatform, until, uploadFile, waitForVideo } from '@reel/stack';
import t from 'tap';

// One upload = one trace, across every service and every NATS hop, seen by an OTLP receiver.
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean } }[];
}
type Span = OtlpSpan & { service: string; attrs: Record<string, unknown> };
const spans: Span[] = [];

const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/v1/traces') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of body.resourceSpans ?? []) {
        const service = rs.resource.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) {
            const attrs = Object.fromEntries(
              (s.attributes ?? []).map((a) => [a.key, a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue ?? a.value.boolValue]),
            );
            spans.push({ ...s, service, attrs });
          }
      }
    }
    res.setHeader('content-type', 'application/json');
    res.end('{}');
  });
});

const dir = mkdtempSync(join(tmpdir(), 'reel-trace-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
t.before(async () => {
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  t.teardown(() => receiver.close());
  const port = (receiver.address() as { port: number }).port;
  platform = await startTestPlatform(t.teardown, {
    env: {
      OTEL_SDK_DISABLED: 'false',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_BSP_SCHEDULE_DELAY: '200',
    },
  });
});

t.test('one upload is one trace through every service', async (t) => {
  const token = await platform.token('alice');
  const res = await uploadFile(platform.url, token, makeClip(dir, 'silent', 3));
  const { id } = (await res.json()) as { id: string };
  t.equal((await waitForVideo(platform.url, token, id)).status, 'ready');
  const root = await spanOf('the gateway span of POST /v1/videos', () =>
    spans.find((s) => s.service === 'gateway' && s.kind === 2 && s.name === 'POST /v1/videos'),
  );
  const traceId = root.traceId;
  const inTrace = () => spans.filter((s) => s.traceId === traceId);
  await spanOf('the catalog span of video.packaged in that trace', () => inTrace().find((s) => s.service === 'catalog' && s.name === 'video.packaged process'));
  await new Promise((r) => setTimeout(r, 1000)); // the last batches
  const all = inTrace();
  const byId = new Map(all.map((s) => [s.spanId, s]));
  const services = new Set(all.map((s) => s.service));
  t.same([...services].sort(), ['catalog', 'gateway', 'ingest', 'packager', 'transcoder', 'webhooks'], 'spans from every service share one trace id');
  t.ok(
    all.every((s) => (s.parentSpanId ? byId.has(s.parentSpanId) : s === root)),
    'every span but the HTTP request has its parent in the trace',
  );

  // every consumer span is a child of the producer span of the message it handled
  const consumers = all.filter((s) => s.kind === 5);
  for (const c of consumers) {
    const parent = byId.get(c.parentSpanId ?? '');
    t.equal(parent?.kind, 4, `${c.service} ${c.name} descends from a PRODUCER span`);
    t.equal(parent?.attrs['messaging.destination.name'], c.attrs['messaging.destination.name']);
    t.equal(parent?.attrs['messaging.message.id'], c.attrs['messaging.message.id']);
  }
  // fan-out: video.transcoded is consumed by the packager and the catalog, from one producer span
  const transcoded = all.find((s) => s.kind === 4 && s.attrs['messaging.destination.name'] === 'video.transcoded');
  const fanout = consumers.filter((c) => c.parentSpanId === transcoded?.spanId).map((c) => c.attrs['messaging.consumer.group.name']);
  t.same(fanout.sort(), ['catalog', 'packager'], 'fan-out consumers descend from the same producer span');
  const producer = all.find((s) => s.kind === 4);
  t.equal(producer?.attrs['messaging.system'], 'nats');
  t.ok(producer?.attrs['messaging.message.id'], 'messaging.message.id');

  // the work itself: ffmpeg runs with their durations, S3 calls, database queries
  const ladder = all.find((s) => s.name === 'ffmpeg ladder');
  t.ok(ladder, 'the ladder encode is a span');
  const ms = (s?: Span) => (s ? Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6 : 0);
  t.ok(ms(ladder) > 50, `ffmpeg ladder took ${ms(ladder).toFixed(0)} ms`);
  t.ok(Number(ladder?.attrs['reel.ffmpeg.speed']) > 0, `at ${ladder?.attrs['reel.ffmpeg.speed']}× real time`);
  t.equal(byId.get(ladder?.parentSpanId ?? '')?.name, 'work.transcode.requested process', 'inside the work item’s consumer span');
  t.same(
    all.filter((s) => s.name.startsWith('ffmpeg ')).map((s) => s.name),
    ['ffmpeg ladder'],
    'one ffmpeg run, one decode: the images come from the ladder encode, not a second pass over the source',
  );
  t.ok(
    all.some((s) => s.service === 'gateway' && s.name === 'S3 PutObject'),
    'the upload’s S3 call',
  );
  t.ok(
    all.some((s) => s.service === 'packager' && s.name === 'S3 PutObject' && String(s.attrs['aws.s3.key']).endsWith('master.m3u8')),
    'the master playlist write',
  );
  t.ok(
    all.some((s) => s.service === 'catalog' && s.name.startsWith('postgres ')),
    'database work',
  );
});

/** Waits for the span `fn` finds; a timeout lists the spans seen so far. */
const spanOf = <T>(what: string, fn: () => T | undefined): Promise<T> =>
  until(what, fn, { timeoutMs: 30_000, everyMs: 100, explain: () => `spans so far: ${spans.map((s) => `${s.service}:${s.name}`).join(', ')}` });
