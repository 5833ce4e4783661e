import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { type Static, type TSchema, Type as T } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { InvalidMessageError, isQueryError, QueryError } from './errors.ts';
import type { Logger } from './logger.ts';

/** A request-reply query: the subject it is served on and the shapes of both sides. */
export interface QueryDef<Req extends TSchema = TSchema, Res extends TSchema = TSchema> {
  readonly subject: string;
  readonly request: Req;
  readonly response: Res;
}

export function defineQuery<Req extends TSchema, Res extends TSchema>(subject: string, request: Req, response: Res): QueryDef<Req, Res> {
  return { subject, request, response };
}

/** Every service answers this with `{ service, status: 'up' }`; the gateway's health page asks it. */
export const healthQuery = (service: string) =>
  defineQuery(`reel.health.${service}`, T.Object({}), T.Object({ service: T.String(), status: T.Literal('up'), uptimeSec: T.Number() }));

const Reply = T.Union([
  T.Object({ ok: T.Literal(true), result: T.Unknown() }),
  T.Object({ ok: T.Literal(false), error: T.Object({ code: T.String(), message: T.String() }) }),
]);

function check(schema: TSchema, value: unknown, what: string): void {
  if (!Value.Check(schema, value)) {
    const problems = [...Value.Errors(schema, value)].slice(0, 10).map((e) => `${e.path || '/'} ${e.message}`);
    throw new InvalidMessageError(what, problems);
  }
}

/**
 * Answers a query. The handler's QueryError becomes `{ ok: false, error }` for the caller; any
 * other error is logged and reported as `internal`. Serving replicas share a queue group.
 */
export function serveQuery<Req extends TSchema, Res extends TSchema>(
  nc: NatsConnection,
  def: QueryDef<Req, Res>,
  handler: (req: Static<Req>) => Promise<Static<Res>>,
  log: Logger,
): Subscription {
  return nc.subscribe(def.subject, {
    queue: def.subject,
    callback: (err, msg) => {
      if (err) {
        log.error({ err, subject: def.subject }, 'query subscription failed');
        return;
      }
      const answer = async () => {
        try {
          const req = msg.data.length ? JSON.parse(new TextDecoder().decode(msg.data)) : {};
          check(def.request, req, `invalid ${def.subject} request`);
          const result = await handler(req);
          check(def.response, result, `invalid ${def.subject} response`);
          return { ok: true, result };
        } catch (e) {
          if (isQueryError(e)) return { ok: false, error: { code: e.code, message: e.message } };
          if (e instanceof InvalidMessageError || e instanceof SyntaxError) {
            return { ok: false, error: { code: 'bad_request', message: (e as Error).message } };
          }
          log.error({ err: e, subject: def.subject }, 'query failed');
          return { ok: false, error: { code: 'internal', message: 'internal error' } };
        }
      };
      answer()
        .then((reply) => msg.respond(JSON.stringify(reply)))
        .catch((e) => log.error({ err: e, subject: def.subject }, 'could not reply'));
    },
  });
}

/** Asks a query and returns its validated result; throws QueryError with the server's code. */
export async function request<Req extends TSchema, Res extends TSchema>(
  nc: NatsConnection,
  def: QueryDef<Req, Res>,
  req: Static<Req>,
  opts: { timeoutMs?: number } = {},
): Promise<Static<Res>> {
  let msg: Awaited<ReturnType<NatsConnection['request']>>;
  try {
    msg = await nc.request(def.subject, JSON.stringify(req), { timeout: opts.timeoutMs ?? 3000 });
  } catch (err) {
    throw new QueryError('unavailable', `no answer to ${def.subject}: ${(err as Error).message}`, { cause: err });
  }
  const reply = JSON.parse(new TextDecoder().decode(msg.data));
  check(Reply, reply, `invalid reply to ${def.subject}`);
  if (!reply.ok) throw new QueryError(reply.error.code, reply.error.message);
  check(def.response, reply.result, `invalid ${def.subject} response`);
  return reply.result as Static<Res>;
}
