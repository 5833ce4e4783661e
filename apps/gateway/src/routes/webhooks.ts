import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  createWebhookQuery,
  deleteWebhookQuery,
  listWebhookDeliveriesQuery,
  listWebhooksQuery,
  QueryError,
  type QueryDef,
  request,
  WebhookDelivery,
  WebhookEvent,
  WebhookRecord,
} from '@reel/events';
import type { NatsConnection } from '@nats-io/transport-node';
import { type Static, type TSchema, Type as T } from '@sinclair/typebox';
import { requireViewer } from '../plugins/auth.ts';

const Create = T.Object(
  { url: T.String({ minLength: 1, maxLength: 2048 }), events: T.Optional(T.Array(WebhookEvent, { minItems: 1, uniqueItems: true })) },
  { additionalProperties: false },
);
const Created = T.Object({ id: T.String(), url: T.String(), events: T.Array(WebhookEvent), secret: T.String(), createdAt: T.String() });
const IdParams = T.Object({ id: T.String({ maxLength: 64 }) });
const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 404: { $ref: 'Error#' }, 503: { $ref: 'Error#' } };

/**
 * The owner's webhooks, kept by the webhooks service and asked over NATS. Someone else's webhook
 * is a 404, as if it did not exist.
 */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ nc?: NatsConnection | undefined }> = async (app, opts) => {
  const ask = <Req extends TSchema, Res extends TSchema>(def: QueryDef<Req, Res>, req: Static<Req>): Promise<Static<Res>> => {
    if (!opts.nc) throw new QueryError('unavailable', 'the gateway has no NATS connection to reach the webhooks service');
    return request(opts.nc, def, req, { timeoutMs: 5000 });
  };
  const tags = ['webhooks'];

  app.post(
    '/v1/webhooks',
    {
      config: app.limits.write,
      schema: { tags, summary: 'Register a webhook (the secret is shown only in this answer)', body: Create, response: { 201: Created, ...errors } },
    },
    async (req, reply) => {
      const ownerId = requireViewer(req);
      const created = await ask(createWebhookQuery, { ownerId, url: req.body.url, ...(req.body.events ? { events: req.body.events } : {}) });
      reply.code(201).header('Location', `/v1/webhooks/${created.id}`);
      return created;
    },
  );

  app.get('/v1/webhooks', { schema: { tags, response: { 200: T.Object({ items: T.Array(WebhookRecord) }), ...errors } } }, async (req) =>
    ask(listWebhooksQuery, { ownerId: requireViewer(req) }),
  );

  app.delete(
    '/v1/webhooks/:id',
    { config: app.limits.write, schema: { tags, params: IdParams, response: { 204: T.Null(), ...errors } } },
    async (req, reply) => {
      await ask(deleteWebhookQuery, { ownerId: requireViewer(req), id: req.params.id });
      reply.code(204);
      return null;
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'The latest deliveries of a webhook, newest first',
        params: IdParams,
        response: { 200: T.Object({ items: T.Array(WebhookDelivery) }), ...errors },
      },
    },
    async (req) => ask(listWebhookDeliveriesQuery, { ownerId: requireViewer(req), id: req.params.id }),
  );
};
