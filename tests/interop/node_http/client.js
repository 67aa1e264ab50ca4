// An HTTP client on Node's `http` module, traced by the OpenTelemetry JS SDK's
// HTTP instrumentation, for tests/node_http_interop_test.cc. It sends one GET
// inside a root span, so the request carries the instrumentation's client
// span as its parent, in the chosen propagation format.
//
//   node client.js <tracecontext|b3> <spans.jsonl> <port> <path>
//       Inside a root span "node-root", GETs http://127.0.0.1:<port><path>,
//       prints {"status":..,"xTraceId":..,"body":..} on stdout and exits 0
//       ("status" is 0 when the request failed; "error" then says why).
//
// Every span it ends is appended to <spans.jsonl> as one JSON object of
// strings, in the format of tests/interop/node_grpc/peer.js: traceId, spanId,
// parentSpanId ("" for a root), name, kind, httpStatus.

'use strict';

const fs = require('fs');
const api = require('@opentelemetry/api');
const {
  CompositePropagator,
  ExportResultCode,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
} = require('@opentelemetry/core');
const { B3InjectEncoding, B3Propagator } = require('@opentelemetry/propagator-b3');
const { SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
const { registerInstrumentations } = require('@opentelemetry/instrumentation');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');

function fail(message) {
  console.error(message);
  process.exit(2);
}

const [format, spansPath, portArg, target] = process.argv.slice(2);
if (!['tracecontext', 'b3'].includes(format) || !spansPath || !portArg || !target) {
  fail('usage: node client.js tracecontext|b3 <spans.jsonl> <port> <path>');
}

// Writes each span synchronously as it ends (SimpleSpanProcessor), so the
// file is complete once the process has exited.
class JsonLinesExporter {
  export(spans, done) {
    const lines = spans.map((span) => JSON.stringify({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext ? span.parentSpanContext.spanId : '',
      name: span.name,
      kind: api.SpanKind[span.kind],
      // The instrumentation writes the old or the stable attribute name,
      // depending on OTEL_SEMCONV_STABILITY_OPT_IN.
      httpStatus: String(span.attributes['http.response.status_code'] ??
                         span.attributes['http.status_code'] ?? ''),
    }) + '\n');
    fs.appendFileSync(spansPath, lines.join(''));
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown() { return Promise.resolve(); }
  forceFlush() { return Promise.resolve(); }
}

// B3 as one `b3` header, the encoding our "b3" propagator reads and writes.
const propagator = format === 'b3' ?
    new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER }) :
    new CompositePropagator(
        { propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
const provider = new NodeTracerProvider(
    { spanProcessors: [new SimpleSpanProcessor(new JsonLinesExporter())] });
provider.register({ propagator });
// The instrumentation patches `http` as it is loaded, so it must be
// registered before the require below.
registerInstrumentations({ instrumentations: [new HttpInstrumentation()] });

const http = require('http');

async function finish(result) {
  process.stdout.write(JSON.stringify(result) + '\n');
  await provider.shutdown();
  process.exit(0);
}

const tracer = api.trace.getTracer('node-http-interop');
const root = tracer.startSpan('node-root');
api.context.with(api.trace.setSpan(api.context.active(), root), () => {
  const request = http.get({ host: '127.0.0.1', port: Number(portArg), path: target, timeout: 20000 },
                           (response) => {
    const chunks = [];
    response.on('data', (chunk) => chunks.push(chunk));
    response.on('end', () => {
      root.end();
      finish({
        status: response.statusCode,
        xTraceId: String(response.headers['x-trace-id'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      });
    });
  });
  request.on('timeout', () => request.destroy(new Error('no response within 20 s')));
  request.on('error', (error) => {
    root.end();
    finish({ status: 0, error: String(error) });
  });
});
