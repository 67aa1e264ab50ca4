// An OTLP metrics receiver built on the OpenTelemetry JS OTLP transformer's
// protobuf code (generated from the upstream opentelemetry-proto files, not
// from tracebridge's copies): OTLP/gRPC MetricsService/Export on one loopback
// port, OTLP/HTTP POST /v1/metrics (gzip or not) on another. For
// tests/otlp_js_metrics_interop_test.cc.
//
// It prints "LISTENING grpc=<port> http=<port>", then for every request it
// decodes:
//
//   REQUEST <transport> <content-encoding or grpc-encoding> <base64 of the
//           request re-encoded with the same upstream code>
//   METRIC <name> <unit> <data case> <temporality> <monotonic> <points>
//   EXP <name> <attributes JSON> count=.. sum=.. min=.. max=.. scale=..
//       zero_count=.. zero_threshold=.. offset=.. counts=a,b,c exemplars=..
//   NUM <name> <attributes JSON> value=.. start=.. time=..
//   END
//
// and answers with an empty ExportMetricsServiceResponse (HTTP 200). A
// request that does not decode is answered INVALID_ARGUMENT / HTTP 400 and
// printed as "UNDECODABLE <transport> <error>". It exits when stdin closes.
//
//   node receive_metrics.js

'use strict';

const http = require('http');
const zlib = require('zlib');
const grpc = require('@grpc/grpc-js');
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');

const v1 = root.opentelemetry.proto.collector.metrics.v1;
const Request = v1.ExportMetricsServiceRequest;
const Response = v1.ExportMetricsServiceResponse;
const DATA = ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'];

function attributes(list) {
  const out = {};
  for (const kv of list || []) {
    const v = kv.value || {};
    if (v.stringValue !== undefined && v.stringValue !== null) out[kv.key] = v.stringValue;
    else if (v.intValue !== undefined && v.intValue !== null) out[kv.key] = Number(v.intValue);
    else if (v.doubleValue !== undefined && v.doubleValue !== null) out[kv.key] = v.doubleValue;
    else if (v.boolValue !== undefined && v.boolValue !== null) out[kv.key] = v.boolValue;
  }
  return JSON.stringify(out);
}

function str(value) {
  return value === undefined || value === null ? '-' : String(value);
}

function report(transport, encoding, body) {
  let request;
  try {
    request = Request.decode(body);
  } catch (error) {
    console.log(`UNDECODABLE ${transport} ${String(error.message).replace(/\s+/g, ' ')}`);
    return false;
  }
  const again = Buffer.from(Request.encode(request).finish()).toString('base64');
  const lines = [`REQUEST ${transport} ${encoding || 'identity'} ${again}`];
  for (const rm of request.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      for (const metric of sm.metrics) {
        const kind = DATA.find((k) => metric[k]);
        const data = metric[kind] || {};
        const points = data.dataPoints || [];
        lines.push(`METRIC ${metric.name} ${metric.unit || '-'} ${kind} ${
            str(data.aggregationTemporality)} ${str(data.isMonotonic)} ${points.length}`);
        for (const p of points) {
          const attrs = attributes(p.attributes);
          if (kind === 'exponentialHistogram') {
            const pos = p.positive || {};
            lines.push(`EXP ${metric.name} ${attrs} count=${str(p.count)} sum=${str(p.sum)} ` +
                       `min=${str(p.min)} max=${str(p.max)} scale=${str(p.scale)} ` +
                       `zero_count=${str(p.zeroCount)} zero_threshold=${str(p.zeroThreshold)} ` +
                       `offset=${str(pos.offset)} counts=${(pos.bucketCounts || []).join(',')} ` +
                       `exemplars=${(p.exemplars || []).length} start=${str(p.startTimeUnixNano)} ` +
                       `time=${str(p.timeUnixNano)}`);
          } else if (kind === 'sum' || kind === 'gauge') {
            const value = p.asInt !== undefined && p.asInt !== null ? p.asInt : p.asDouble;
            lines.push(`NUM ${metric.name} ${attrs} value=${str(value)} ` +
                       `start=${str(p.startTimeUnixNano)} time=${str(p.timeUnixNano)}`);
          }
        }
      }
    }
  }
  lines.push('END');
  console.log(lines.join('\n'));
  return true;
}

const empty = Buffer.from(Response.encode(Response.create({})).finish());

const server = new grpc.Server();
server.addService({
  Export: {
    path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (b) => b,
    requestDeserialize: (b) => b,
    responseSerialize: (b) => b,
    responseDeserialize: (b) => b,
  },
}, {
  Export: (call, callback) => {
    const encoding = (call.metadata.get('grpc-encoding')[0] || 'identity').toString();
    if (report('grpc', encoding, call.request)) {
      callback(null, empty);
    } else {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: 'undecodable request' });
    }
  },
});

const web = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    let body = Buffer.concat(chunks);
    const encoding = request.headers['content-encoding'];
    if (request.method !== 'POST' || request.url !== '/v1/metrics') {
      response.writeHead(404).end();
      return;
    }
    if (encoding === 'gzip') body = zlib.gunzipSync(body);
    const ok = report('http', encoding, body);
    response.writeHead(ok ? 200 : 400, { 'Content-Type': 'application/x-protobuf' });
    response.end(ok ? empty : Buffer.alloc(0));
  });
});

server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, grpcPort) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  web.listen(0, '127.0.0.1', () => {
    console.log(`LISTENING grpc=${grpcPort} http=${web.address().port}`);
  });
});

process.stdin.on('data', () => {});
process.stdin.on('end', () => {
  server.forceShutdown();
  web.close();
  // Output beyond the pipe's buffer is queued: exit once it is written.
  process.stdout.write('', () => process.exit(0));
});
