// Sends a small, fixed trace through the OpenTelemetry JS SDK and its OTLP/gRPC
// exporter to 127.0.0.1:<port> (argv[2]), then shuts the provider down, which
// flushes. tests/otlp_js_interop_test.cc decodes what arrives with
// tracebridge's own OTLP messages and checks every value set here.
//
//   node send_spans.js 4317

'use strict';

const api = require('@opentelemetry/api');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');

async function main() {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port <= 0) {
    console.error('usage: node send_spans.js <port>');
    process.exit(2);
  }

  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}` });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.name': 'js-interop-sender',
      'service.version': '7.0.1',
    }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('interop-js', '1.0.0');

  // No context manager is registered: the parent is passed explicitly.
  const parent = tracer.startSpan('GET /checkout', {
    kind: api.SpanKind.SERVER,
    attributes: {
      'http.method': 'GET',
      'http.status_code': 200,
      'sample.ratio': 0.5,
      'cache.hit': true,
    },
  });
  const parentContext = api.trace.setSpan(api.context.active(), parent);

  const child = tracer.startSpan(
      'charge card', { kind: api.SpanKind.CLIENT, attributes: { 'peer.service': 'payments' } },
      parentContext);
  child.addEvent('retrying', { attempt: 2 });
  child.setStatus({ code: api.SpanStatusCode.ERROR, message: 'card declined' });
  child.end();

  const grandchild = tracer.startSpan('audit', {}, api.trace.setSpan(parentContext, child));
  grandchild.end();

  parent.setStatus({ code: api.SpanStatusCode.OK });
  parent.end();

  await provider.shutdown();
}

main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    });
