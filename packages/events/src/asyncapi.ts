/**
 * The event contract, machine-readable: an AsyncAPI 3.0 document and one JSON Schema per event,
 * both GENERATED from the registry (never written by hand), so they cannot say something the
 * services do not check. TypeBox schemas are JSON Schema: they are used as they are.
 */
import type { TSchema } from '@sinclair/typebox';
import {
  EnvelopeSchema,
  type Registry,
  registry,
  type Subject,
  Subjects,
  streamOf,
  VIDEO_STREAM,
  VIDEO_SUBJECTS,
  WORK_STREAM,
  WORK_ITEMS,
} from './contract.ts';

/** Who publishes each subject (a subject added to the registry without its producers does not compile). */
const PRODUCERS: { readonly [K in Subject]: readonly string[] } = {
  'video.created': ['gateway'],
  'video.uploaded': ['gateway'],
  'video.updated': ['gateway'],
  'video.ingested': ['ingest'],
  'work.transcode.requested': ['ingest'],
  'video.transcoded': ['transcoder'],
  'work.audio.requested': ['ingest'],
  'video.audio.transcoded': ['transcoder'],
  'video.thumbnails.created': ['packager'],
  'live.progress': ['transcoder'],
  'video.playable': ['packager'],
  'video.packaged': ['packager'],
  'video.ready': ['catalog'],
  'video.failed': ['any service, when it gives a message up'],
  'video.deleted': ['gateway', 'catalog (expired uploads)'],
  'video.viewed': ['gateway'],
};

/** What each subject means, for the reader of the document. */
const SUMMARIES: { readonly [K in Subject]: string } = {
  'video.created': 'A video is announced before its bytes: a direct (presigned) or resumable (tus) upload is under way.',
  'video.uploaded': "The source file is stored; processing starts (again, with the next `attempt`, on the owner's retry).",
  'video.updated': 'The owner changed the title, description or visibility.',
  'video.ingested': 'The source was probed and cut into chunks; the ladder of renditions is chosen.',
  'work.transcode.requested': 'Work item: one chunk is to be transcoded into every rung of the ladder (WORK stream, removed once done).',
  'video.transcoded': 'One chunk is transcoded; its segments and manifest are in the media bucket.',
  'work.audio.requested': "Work item: the source's audio is to be encoded once, as the audio rendition every rung shares (a video of several chunks).",
  'video.audio.transcoded': 'The audio rendition is stored; its segments and manifest are in the media bucket.',
  'video.thumbnails.created':
    'Poster, thumbnails and storyboard (made by the chunk encodes, the storyboard VTT stitched by the packager) are in the media bucket.',
  'live.progress': 'A stage reports how far it got: chatter in the LIVE stream (memory, one minute), folded by the catalog as the latest.',
  'video.playable': 'The HLS master playlist exists: the video plays (before packaging completes).',
  'video.packaged': 'Every chunk is packaged: the master playlist and renditions are final.',
  'video.ready': 'The video plays and has what its page shows; published once per processing attempt by the catalog.',
  'video.failed': 'A stage gave the video up, with a machine-readable code.',
  'video.deleted': 'The video is deleted; nothing is published for it afterwards.',
  'video.viewed': 'Someone watched the video: one view per viewer per video per 30 minutes, counted by the gateway (the viewer is an opaque hash).',
};

/** The durable JetStream consumers of the platform: one per (service, subject); replicas share it. */
export const CONSUMERS: readonly { durable: string; service: string; filter: string; description: string }[] = [
  { durable: 'ingest', service: 'ingest', filter: Subjects.uploaded, description: 'Probes the source, chooses the ladder and requests the chunks.' },
  { durable: 'ingest-deleted', service: 'ingest', filter: Subjects.deleted, description: "Removes a deleted video's source and work files." },
  {
    durable: 'transcoder',
    service: 'transcoder',
    filter: Subjects.transcodeRequested,
    description: 'Transcodes one chunk into every rung, and makes the poster, thumbnails and storyboard tiles that fall in it.',
  },
  {
    durable: 'transcoder-audio',
    service: 'transcoder',
    filter: Subjects.audioRequested,
    description: "Encodes the source's audio once into the shared audio rendition.",
  },
  {
    durable: 'packager',
    service: 'packager',
    filter: Subjects.transcoded,
    description: 'Writes the playlists as chunks land in order (playable early), final once every chunk is in.',
  },
  { durable: 'packager-audio', service: 'packager', filter: Subjects.audioTranscoded, description: 'The same packaging, woken by the audio rendition.' },
  { durable: 'packager-deleted', service: 'packager', filter: Subjects.deleted, description: "Removes a deleted video's media." },
  { durable: 'catalog-live', service: 'catalog', filter: Subjects.progress, description: 'Folds the latest progress tick into the read model.' },
  { durable: 'catalog', service: 'catalog', filter: VIDEO_SUBJECTS, description: 'Folds every event into the Postgres read model; announces `video.ready`.' },
];

export interface AsyncApiOptions {
  /** The NATS server shown under `servers` (host:port); default `localhost:4222`. */
  natsHost?: string;
  /** `info.version` of the document; default the contract's package version. */
  version?: string;
}

type Json = Record<string, unknown>;

/** `work.transcode.requested` → `workTranscodeRequested`: AsyncAPI ids allow no dots in channel names. */
export const idOf = (subject: string): string => subject.replace(/\.([a-z])/g, (_, c: string) => c.toUpperCase());

/** A TypeBox schema as plain JSON Schema (TypeBox's symbols dropped). */
const plain = (schema: TSchema): Json => JSON.parse(JSON.stringify(schema)) as Json;

/** The JSON Schema of a whole message of `subject`: the envelope with its type, version and data fixed. */
export function envelopeSchemaOf(subject: Subject, reg: Registry = registry, data: Json = plain(reg[subject]?.schema as TSchema)): Json {
  const def = reg[subject];
  if (!def) throw new Error(`unknown subject ${subject}`);
  const env = plain(EnvelopeSchema) as { properties: Record<string, Json>; required: string[] };
  return {
    type: 'object',
    required: env.required,
    properties: {
      ...env.properties,
      id: { ...env.properties.id, description: 'The event id, also sent as the Nats-Msg-Id header: a repeat inside the duplicate window is dropped.' },
      type: { type: 'string', const: subject, description: 'The subject the event is published on.' },
      version: { type: 'integer', const: def.version, description: 'The schema version of data; older versions are upcast by consumers.' },
      occurredAt: { ...env.properties.occurredAt, description: 'When it happened, as an ISO 8601 UTC timestamp.' },
      data,
    },
  };
}

const HEADERS: Json = {
  type: 'object',
  description: 'NATS message headers set by every publisher.',
  required: ['Nats-Msg-Id'],
  properties: {
    'Nats-Msg-Id': { type: 'string', description: 'The envelope id: JetStream drops a message whose id it saw inside the duplicate window (10 min).' },
    traceparent: {
      type: 'string',
      pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
      description: 'W3C trace context of the publishing span; consumers open their span as its child.',
    },
    tracestate: { type: 'string', description: 'W3C trace state, when the tracer set one.' },
  },
};

/**
 * The AsyncAPI 3.0 document of the video events: a channel per subject with its message (headers,
 * envelope, payload schema), a channel for the `video.>` wildcard, a `send` operation per subject
 * naming its producers, and a `receive` operation per durable consumer. Plain JSON, ready to serve.
 */
export function asyncApiDocument(opts: AsyncApiOptions = {}): Json {
  const subjects = Object.keys(registry) as Subject[];
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {};
  const schemas: Json = { NatsHeaders: HEADERS };
  for (const subject of subjects) {
    const id = idOf(subject);
    const def = registry[subject];
    const schemaId = `${subject}.v${def.version}`;
    schemas[schemaId] = plain(def.schema);
    messages[id] = {
      name: subject,
      title: `${subject} v${def.version}`,
      summary: SUMMARIES[subject],
      contentType: 'application/json',
      headers: { $ref: '#/components/schemas/NatsHeaders' },
      payload: envelopeSchemaOf(subject, registry, { $ref: `#/components/schemas/${schemaId}` }),
      correlationId: { description: 'The id of the video the event is about.', location: '$message.payload#/data/videoId' },
    };
    channels[id] = {
      address: subject,
      title: subject,
      description: SUMMARIES[subject],
      messages: { [id]: { $ref: `#/components/messages/${id}` } },
    };
    operations[`publish${id[0]?.toUpperCase()}${id.slice(1)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${id}` },
      messages: [{ $ref: `#/channels/${id}/messages/${id}` }],
      summary: `Published by ${PRODUCERS[subject].join(', ')}.`,
      'x-producers': PRODUCERS[subject],
    };
  }
  const facts = subjects.filter((s) => streamOf(s) === VIDEO_STREAM);
  channels.videoEvents = {
    address: VIDEO_SUBJECTS,
    title: VIDEO_SUBJECTS,
    description: `Every fact about videos: the JetStream stream ${VIDEO_STREAM} captures ${VIDEO_SUBJECTS}. A consumer on the wildcard sees every fact above (not the work items, which the work-queue stream ${WORK_STREAM} holds on ${WORK_ITEMS.join(', ')}).`,
    messages: Object.fromEntries(facts.map((s) => [idOf(s), { $ref: `#/components/messages/${idOf(s)}` }])),
  };
  for (const c of CONSUMERS) {
    const channel = c.filter === VIDEO_SUBJECTS ? 'videoEvents' : idOf(c.filter);
    const received = c.filter === VIDEO_SUBJECTS ? facts.map(idOf) : [idOf(c.filter)];
    const stream = streamOf(c.filter);
    operations[`${idOf(c.durable.replace(/-/g, '.'))}Receives`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${channel}` },
      messages: received.map((m) => ({ $ref: `#/channels/${channel}/messages/${m}` })),
      title: `${c.service}: durable consumer ${c.durable}`,
      summary: c.description,
      description: `A JetStream durable pull consumer \`${c.durable}\` on stream ${stream}, filter \`${c.filter}\`, explicit acks, delivering from the start of the stream. Replicas of ${c.service} share it.`,
      bindings: { nats: { queue: c.durable, bindingVersion: '0.1.0' } },
      'x-jetstream': { stream, durable: c.durable, filterSubject: c.filter, ackPolicy: 'explicit', deliverPolicy: 'all' },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Reel video events',
      version: opts.version ?? '0.1.0',
      description: [
        'The events of the Reel video platform, on NATS JetStream. Every message is a JSON envelope',
        '`{ id, type, version, occurredAt, data }`; `data` follows the subject’s schema at `version`.',
        'Events of a video may arrive out of order and more than once: subscribers dedupe by `id` and fold facts.',
        'Generated from the registry in @reel/events; JSON Schema files per event are in packages/events/schemas/.',
      ].join(' '),
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      nats: {
        host: opts.natsHost ?? 'localhost:4222',
        protocol: 'nats',
        description: `NATS with JetStream; streams ${VIDEO_STREAM} on ${VIDEO_SUBJECTS} (facts) and ${WORK_STREAM} on ${WORK_ITEMS.join(', ')} (work queue).`,
      },
    },
    channels,
    operations,
    components: { schemas, messages },
  };
}

/** The file name of an event's JSON Schema: `<subject>.v<version>.json`. */
export const schemaFileOf = (subject: Subject): string => `${subject}.v${registry[subject].version}.json`;

/**
 * One self-contained JSON Schema (draft-07) per event, validating a whole message body (the
 * envelope with its data), keyed by file name, as the generator writes them (2-space JSON + newline).
 */
export function eventJsonSchemaFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const subject of Object.keys(registry) as Subject[]) {
    const def = registry[subject];
    const schema = {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: `urn:reel:event:${subject}:v${def.version}`,
      title: `${subject} v${def.version}`,
      description: `${SUMMARIES[subject]} The message body published on the NATS subject ${subject}. Generated from @reel/events: do not edit.`,
      ...envelopeSchemaOf(subject),
    };
    files.set(schemaFileOf(subject), `${JSON.stringify(schema, null, 2)}\n`);
  }
  return files;
}
