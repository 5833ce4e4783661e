import { metrics } from '@opentelemetry/api';

/** The platform's own metrics; exported only when the SDK has a metrics exporter configured. */
const meter = metrics.getMeter('@reel/events');

export const eventMetrics = {
  published: meter.createCounter('reel.events.published', { description: 'events published, by subject' }),
  handled: meter.createCounter('reel.events.handled', { description: 'messages handled, by subject, consumer and outcome (ack, retry, term)' }),
  inFlight: meter.createUpDownCounter('reel.jobs.in_flight', { description: 'handlers running now, by consumer' }),
  duration: meter.createHistogram('reel.job.duration', { unit: 's', description: 'handler duration, by consumer and outcome' }),
  failures: meter.createCounter('reel.videos.failed', { description: 'videos given up, by stage and error code' }),
  pending: meter.createObservableGauge('reel.consumer.pending', { description: 'messages not yet delivered, by durable consumer' }),
};
