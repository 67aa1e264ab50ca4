// Records a fixed set of measurements with the OpenTelemetry JS metrics SDK
// and sends them with its OTLP/gRPC metric exporter to 127.0.0.1:<port>
// (argv[2]), then shuts the provider down, which exports once more.
// tests/otlp_js_metrics_interop_test.cc decodes what arrives with
// tracebridge's own OTLP messages and checks every value recorded here.
//
//   node send_metrics.js 4317

'use strict';

const { OTLPMetricExporter } = require('@opentelemetry/exporter-metrics-otlp-grpc');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const {
  AggregationType,
  MeterProvider,
  PeriodicExportingMetricReader,
} = require('@opentelemetry/sdk-metrics');

async function main() {
  const port = Number(process.argv[2]);
  if (!Number.isInteger(port) || port <= 0) {
    console.error('usage: node send_metrics.js <port>');
    process.exit(2);
  }

  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter({ url: `http://127.0.0.1:${port}` }),
    // Long enough that only the explicit flush and the shutdown export.
    exportIntervalMillis: 600000,
  });
  const provider = new MeterProvider({
    resource: resourceFromAttributes({
      'service.name': 'js-metrics-sender',
      'service.version': '3.2.1',
    }),
    views: [
      {
        instrumentName: 'checkout.duration',
        aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM },
      },
      {
        instrumentName: 'payload.size',
        aggregation: {
          type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM,
          options: { boundaries: [10, 100, 1000] },
        },
      },
    ],
    readers: [reader],
  });
  const meter = provider.getMeter('interop-js-metrics', '1.0.0');

  const orders = meter.createCounter('orders.placed', { description: 'Orders placed.', unit: '{order}' });
  orders.add(3, { 'shop.region': 'eu' });
  orders.add(4, { 'shop.region': 'eu' });
  orders.add(5, { 'shop.region': 'us' });

  const queue = meter.createUpDownCounter('queue.depth', { unit: '{item}' });
  queue.add(10);
  queue.add(-4);

  const duration = meter.createHistogram('checkout.duration', { unit: 's' });
  for (const value of [0.5, 1, 2, 4]) duration.record(value, { route: '/checkout' });
  duration.record(0, { route: '/checkout' });

  const size = meter.createHistogram('payload.size', { unit: 'By' });
  for (const value of [5, 50, 500, 5000, 10]) size.record(value);

  meter.createObservableGauge('temperature', { unit: 'Cel' })
      .addCallback((result) => result.observe(21.5, { room: 'lab' }));

  await reader.forceFlush();
  await provider.shutdown();
}

main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    });
