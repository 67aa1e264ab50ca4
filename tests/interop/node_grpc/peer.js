// An Echo client or server on @grpc/grpc-js, traced by the OpenTelemetry JS
// SDK's gRPC instrumentation, for tests/node_grpc_interop_test.cc. Every span
// it ends is appended to <spans.jsonl> as one JSON object of strings:
// traceId, spanId, parentSpanId ("" for a root), name, kind, grpcStatus.
//
// Formats: tracecontext (W3C Trace Context and Baggage), b3 (single header),
// b3multi (multi headers), jaeger (uber-trace-id; its package is loaded only
// for this format, so packages without it can run the others).
//
//   node peer.js server <format> <spans.jsonl>
//       Serves tracebridge.testing.Echo on 127.0.0.1:0, prints "port <n>" on
//       stdout, and finishes (shuts down, flushes, exits 0) when stdin ends.
//       Unary echoes the message; the message "report" is answered instead
//       with what the call arrived with, as JSON: the metadata keys, the
//       baggage the propagator extracted ("key=value" joined with ","), and
//       the grpc-trace-bin value in hex ("" when absent).
//   node peer.js client <format> <spans.jsonl> <port>
//       Inside a root span "node-root", with the baggage "tenant=acme"
//       current, makes one Unary call to 127.0.0.1:<port>, then prints
//       {"code":..,"xTraceId":..} on stdout and exits 0.

'use strict';

const fs = require('fs');
const path = require('path');
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
const { GrpcInstrumentation } = require('@opentelemetry/instrumentation-grpc');

function fail(message) {
  console.error(message);
  process.exit(2);
}

const [mode, format, spansPath, portArg] = process.argv.slice(2);
const FORMATS = ['tracecontext', 'b3', 'b3multi', 'jaeger'];
if (!['client', 'server'].includes(mode) || !FORMATS.includes(format) || !spansPath ||
    (mode === 'client' && !portArg)) {
  fail(`usage: node peer.js server|client ${FORMATS.join('|')} <spans.jsonl> [port]`);
}

// Writes each span synchronously as it ends (SimpleSpanProcessor), so the
// file is complete as soon as the process has exited.
class JsonLinesExporter {
  export(spans, done) {
    const lines = spans.map((span) => JSON.stringify({
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext ? span.parentSpanContext.spanId : '',
      name: span.name,
      kind: api.SpanKind[span.kind],
      grpcStatus: String(span.attributes['rpc.grpc.status_code'] ?? ''),
    }) + '\n');
    fs.appendFileSync(spansPath, lines.join(''));
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown() { return Promise.resolve(); }
  forceFlush() { return Promise.resolve(); }
}

function makePropagator() {
  switch (format) {
    case 'b3':
      return new B3Propagator({ injectEncoding: B3InjectEncoding.SINGLE_HEADER });
    case 'b3multi':
      return new B3Propagator({ injectEncoding: B3InjectEncoding.MULTI_HEADER });
    case 'jaeger': {
      const { JaegerPropagator } = require('@opentelemetry/propagator-jaeger');
      return new JaegerPropagator();
    }
    default:
      return new CompositePropagator(
          { propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });
  }
}
const propagator = makePropagator();
const provider = new NodeTracerProvider(
    { spanProcessors: [new SimpleSpanProcessor(new JsonLinesExporter())] });
provider.register({ propagator });
// The instrumentation patches @grpc/grpc-js as it is loaded, so it must be
// registered before the first require of grpc-js below.
registerInstrumentations({ instrumentations: [new GrpcInstrumentation()] });

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const definition = protoLoader.loadSync(path.join(__dirname, 'echo.proto'), {
  keepCase: true,
  defaults: true,
});
const Echo = grpc.loadPackageDefinition(definition).tracebridge.testing.Echo;

async function finish(code) {
  await provider.shutdown();
  process.exit(code);
}

function serve() {
  const server = new grpc.Server();
  server.addService(Echo.service, {
    Unary: (call, callback) => {
      if (call.request.message !== 'report') {
        callback(null, { message: call.request.message });
        return;
      }
      const bag = api.propagation.getBaggage(api.context.active());
      const baggage = bag ? bag.getAllEntries().map(([k, v]) => `${k}=${v.value}`).join(',') : '';
      const traceBin = call.metadata.get('grpc-trace-bin');
      callback(null, {
        message: JSON.stringify({
          keys: Object.keys(call.metadata.getMap()).sort(),
          baggage,
          traceBin: traceBin.length > 0 ? Buffer.from(traceBin[0]).toString('hex') : '',
        }),
      });
    },
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) fail(`bind: ${error}`);
    process.stdout.write(`port ${port}\n`);
  });
  process.stdin.on('end', () => server.tryShutdown(() => finish(0)));
  process.stdin.resume();
}

function call() {
  const client = new Echo(`127.0.0.1:${portArg}`, grpc.credentials.createInsecure());
  const tracer = api.trace.getTracer('node-grpc-interop');
  const root = tracer.startSpan('node-root');
  const baggage = api.propagation.createBaggage({ tenant: { value: 'acme' } });
  const active = api.propagation.setBaggage(api.trace.setSpan(api.context.active(), root), baggage);
  api.context.with(active, () => {
    let xTraceId = '';
    const deadline = new Date(Date.now() + 20000);
    const pending = client.Unary({ message: 'from node' }, { deadline }, (error) => {
      root.end();
      client.close();
      process.stdout.write(JSON.stringify({ code: error ? error.code : 0, xTraceId }) + '\n');
      finish(0);
    });
    pending.on('metadata', (metadata) => {
      const values = metadata.get('x-trace-id');
      if (values.length > 0) xTraceId = String(values[0]);
    });
  });
}

if (mode === 'server') {
  serve();
} else {
  call();
}
