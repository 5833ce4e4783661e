import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from '@asyncapi/parser';
import ajv from 'ajv';
import t from 'tap';
import { asyncApiDocument, CONSUMERS, eventJsonSchemaFiles, idOf, schemaFileOf } from '../src/asyncapi.ts';
import { makeEnvelope, registry, type Subject } from '../src/mod.ts';
import { SCHEMAS_DIR, schemaDrift } from '../scripts/schemas.ts';
import { fixtures } from './fixtures.ts';

// ajv is CommonJS: its class is both module.exports and module.exports.default (a root devDependency)
const Ajv = ajv.default;
const subjects = Object.keys(registry) as Subject[];

t.test('the official AsyncAPI parser accepts the generated document', async (t) => {
  const doc = asyncApiDocument();
  const { document, diagnostics } = await new Parser().parse(JSON.stringify(doc));
  const errors = diagnostics.filter((d) => d.severity === 0);
  t.same(
    errors.map((d) => `${d.path.join('/')}: ${d.message}`),
    [],
    'no errors',
  );
  t.ok(document, 'a document came out');
  const warnings = diagnostics.filter((d) => d.severity === 1).map((d) => `${d.code} ${d.path.join('/')}: ${d.message}`);
  t.same(warnings, [], 'no warnings either');
  t.equal(document?.version(), '3.0.0');

  // read back through the parser's model, as a code generator would
  const channels = document?.channels().all() ?? [];
  for (const subject of subjects) {
    const ch = channels.find((c) => c.address() === subject);
    t.ok(ch, `${subject} has a channel`);
    const msg = ch?.messages().all()[0];
    t.equal(msg?.name(), subject);
    t.ok(msg?.headers()?.properties()?.['Nats-Msg-Id'], `${subject}: Nats-Msg-Id header`);
    t.ok(msg?.headers()?.properties()?.traceparent, `${subject}: traceparent header`);
    const payload = msg?.payload();
    t.same(payload?.required(), ['id', 'type', 'version', 'occurredAt', 'data'], `${subject}: the envelope`);
    t.equal(payload?.properties()?.type?.const(), subject);
    t.same(payload?.properties()?.data?.required(), (registry[subject].schema as { required?: string[] }).required, `${subject}: its data schema`);
  }
  const receivers = (document?.operations().all() ?? []).filter((o) => o.action() === 'receive');
  t.same(
    receivers.map((o) => o.bindings().get('nats')?.value()?.queue).sort(),
    ['catalog', 'catalog-live', 'ingest', 'ingest-deleted', 'packager', 'packager-audio', 'packager-deleted', 'transcoder', 'transcoder-audio'],
    'every durable consumer',
  );
  const catalog = receivers.find((o) => o.bindings().get('nats')?.value()?.queue === 'catalog');
  t.equal(catalog?.channels().all()[0]?.address(), 'video.>', 'the catalog reads the wildcard');
  const facts = subjects.filter((s) => s.startsWith('video.'));
  t.equal(catalog?.messages().all().length, facts.length, 'and so every fact (the work items are in the WORK stream)');
  const transcoder = receivers.find((o) => o.bindings().get('nats')?.value()?.queue === 'transcoder');
  const binding = transcoder?.json() as { 'x-jetstream'?: { stream: string } } | undefined;
  t.equal(binding?.['x-jetstream']?.stream, 'WORK', 'the transcoder takes its work from the work queue');
  const live = receivers.find((o) => o.bindings().get('nats')?.value()?.queue === 'catalog-live')?.json() as { 'x-jetstream'?: { stream: string } } | undefined;
  t.equal(live?.['x-jetstream']?.stream, 'LIVE', 'progress is chatter in the LIVE stream');
  const senders = (document?.operations().all() ?? []).filter((o) => o.action() === 'send');
  t.equal(senders.length, subjects.length, 'every subject has its publish operation');
});

t.test('the parser notices a broken document (the test can fail)', async (t) => {
  const doc = asyncApiDocument() as { operations: Record<string, { channel: unknown }> };
  const [first] = Object.keys(doc.operations);
  (doc.operations[first as string] as { channel: unknown }).channel = { $ref: '#/channels/nowhere' };
  const { diagnostics } = await new Parser().parse(JSON.stringify(doc));
  t.ok(
    diagnostics.some((d) => d.severity === 0),
    'a dangling channel reference is an error',
  );
});

t.test('the committed JSON Schemas are the registry’s (run `npm run -w packages/events schemas` after changing it)', async (t) => {
  t.same(schemaDrift(), [], `${SCHEMAS_DIR} matches the registry`);
  t.same([...eventJsonSchemaFiles().keys()].sort(), subjects.map(schemaFileOf).sort(), 'one file per subject');
});

t.test('drift is found: a changed, a missing and a stale file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'reel-schemas-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(SCHEMAS_DIR, dir, { recursive: true });
  t.same(schemaDrift(dir), []);
  writeFileSync(join(dir, 'video.ready.v1.json'), '{}\n');
  rmSync(join(dir, 'video.failed.v1.json'));
  writeFileSync(join(dir, 'video.gone.v1.json'), '{}\n');
  t.same(schemaDrift(dir), ['video.failed.v1.json: missing', 'video.gone.v1.json: not in the registry', 'video.ready.v1.json: differs from the registry']);
});

t.test('a plain JSON Schema validator (ajv, as another language would use) checks messages by those files', async (t) => {
  const validator = new Ajv({ strict: true, allErrors: true });
  for (const [name, text] of eventJsonSchemaFiles()) {
    const subject = name.replace(/\.v\d+\.json$/, '') as Subject;
    const validate = validator.compile(JSON.parse(text));
    const { valid, invalid } = fixtures[subject];
    const env = JSON.parse(JSON.stringify(makeEnvelope(registry, subject, valid as never)));
    t.ok(validate(env), `${subject}: a valid message passes ${JSON.stringify(validate.errors)}`);
    t.notOk(validate({ ...env, data: invalid }), `${subject}: invalid data is refused`);
    t.notOk(validate({ ...env, type: 'video.other' }), `${subject}: another type is refused`);
    const { id: _id, ...noId } = env;
    t.notOk(validate(noId), `${subject}: an envelope without id is refused`);
  }
});

t.test('ids: channel and operation names are AsyncAPI-safe', async (t) => {
  t.equal(idOf('work.transcode.requested'), 'workTranscodeRequested');
  t.equal(CONSUMERS.length, 9);
});
