import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import { type Context, context, propagation, type TextMapGetter, type TextMapSetter, trace } from '@opentelemetry/api';

/** The tracer every publish/consume span comes from. */
export const tracer = trace.getTracer('@reel/events');

const setter: TextMapSetter<MsgHdrs> = {
  set: (carrier, key, value) => carrier.set(key, value),
};
const getter: TextMapGetter<MsgHdrs | undefined> = {
  keys: (carrier) => (carrier ? carrier.keys() : []),
  get: (carrier, key) => carrier?.get(key) || undefined,
};

/** Puts W3C trace context (`traceparent`, `tracestate`) of `ctx` into NATS headers. */
export function injectTrace(ctx: Context, hdrs: MsgHdrs = natsHeaders()): MsgHdrs {
  propagation.inject(ctx, hdrs, setter);
  return hdrs;
}

/** Reads the trace context a producer put into the message headers. */
export function extractTrace(hdrs: MsgHdrs | undefined): Context {
  return propagation.extract(context.active(), hdrs, getter);
}
