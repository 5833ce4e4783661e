import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

const tracer = trace.getTracer('@reel/gateway');

/** The URL as it may be logged: playback tokens and SSE access tokens are credentials. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token)=)[^&]*/g, '$1[redacted]');
}

/**
 * One SERVER span per HTTP request (and its one log line), continuing a `traceparent` the client sent, active while the
 * handler runs — so the events an upload publishes, and everything downstream, share its trace.
 * (There is no maintained instrumentation we could load before Fastify under ESM; this is small.)
 */
export const tracingPlugin = fp(
  async (app) => {
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
      const started = performance.now();
      reply.raw.once('close', () => {
        const status = reply.raw.statusCode;
        req.log[status >= 500 ? 'error' : 'info'](
          { method: req.method, url: redactUrl(req.url), status, ms: Math.round(performance.now() - started) },
          'request',
        );
        span.setAttribute('http.response.status_code', status);
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
  },
  { name: 'reel-tracing' },
);
