import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@reel/telemetry';
import { startTelemetry } from '@reel/telemetry';
const spans = new InMemorySpanExporter();
startTelemetry({ serviceName: 'x', env: {}, spanProcessors: [new SimpleSpanProcessor(spans)] });
const s = trace.getTracer('t').startSpan('a');
console.log(s.spanContext(), s.isRecording());
s.end();
setTimeout(() => console.log(spans.getFinishedSpans().length), 500);
