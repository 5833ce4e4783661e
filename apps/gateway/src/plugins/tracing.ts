import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

const tracer = trace.getTracer('@reel/gateway');

/**
 * One SERVER span per HTTP request, continuing a `traceparent` the client sent, active while the
 * handler runs — so the events an upload publishes, and everything downstream, share its trace.
 * (There is no maintained instrumentation we could load before Fastify under ESM; this is small.)
 */
export function traceRequests(app: FastifyInstance): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  app.addHook('onRequest', (req, reply, done) => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      `${req.method} ${req.routeOptions.url ?? 'unknown route'}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method,
          'url.path': req.url.split('?')[0] ?? '',
          ...(req.routeOptions.url ? { 'http.route': req.routeOptions.url } : {}),
          'client.address': req.ip,
        },
      },
      parent,
    );
    spans.set(req, span);
    // hijacked replies (SSE, tus) skip onResponse: end on the socket's close instead
    reply.raw.once('close', () => {
      span.setAttribute('http.response.status_code', reply.raw.statusCode);
      if (reply.raw.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), done);
  });
  // body parsing runs in the socket's context: make the request's span active again for the handler
  app.addHook('preHandler', (req, _reply, done) => {
    const span = spans.get(req);
    if (!span) return done();
    context.with(trace.setSpan(context.active(), span), done);
  });
}
