// The rpcz page: per method and route, calls, errors, latency percentiles,
// a histogram whose buckets link to an example trace, and status codes; the
// age of the oldest stream in flight and a list of streams in flight (when
// stream progress is on).
'use strict';

tb.render((app, page) => {
  const {el} = tb;
  app.append(el('h1', {text: 'RPCs'}));
  app.append(el('div', {className: 'sub',
      text: 'Calls ' + page.service + ' served and made since it started (' +
            tb.seconds(page.uptime_seconds) + ' ago). Latency buckets with a dark bar link to an example trace.'}));

  const groups = [['grpc', 'server', 'gRPC methods served'], ['grpc', 'client', 'gRPC methods called'],
                  ['http', 'server', 'HTTP routes served'], ['http', 'client', 'HTTP requests made']];
  for (const [protocol, side, title] of groups) {
    const series = page.series.filter((s) => s.protocol === protocol && s.side === side);
    if (!series.length) continue;
    app.append(el('h2', {text: title}));
    const table = el('table', {className: 'grid rpcz', dataset: {protocol, side}},
        el('tr', null, el('th', {text: protocol === 'grpc' ? 'Method' : 'Route'}),
           el('th', {className: 'num', text: 'Calls'}), el('th', {className: 'num', text: 'Errors'}),
           el('th', {className: 'num', text: 'In flight'}),
           el('th', {className: 'num', text: 'Oldest stream'}), el('th', {className: 'num', text: 'p50'}),
           el('th', {className: 'num', text: 'p90'}), el('th', {className: 'num', text: 'p99'}),
           el('th', {className: 'num', text: 'Max'}), el('th', {text: 'Latency'}),
           el('th', {text: 'Status codes'}), el('th', {text: ''})));
    for (const s of series) {
      const idle = s.count === 0 && s.in_flight === 0;
      const latency = (v) => el('td', {className: 'num', text: s.count ? tb.seconds(v) : '–'});
      const row = el('tr', {className: idle ? 'idle' : '',
                            dataset: {protocol: s.protocol, side: s.side, name: s.name}},
          el('td', {className: 'mono', text: s.name}),
          el('td', {className: 'num', dataset: {field: 'count'}, text: String(s.count)}),
          el('td', {className: 'num', dataset: {field: 'errors'}, text: String(s.errors),
                    style: s.errors ? {color: 'var(--error)', fontWeight: '600'} : null}),
          el('td', {className: 'num', dataset: {field: 'in_flight'}, text: String(s.in_flight)}),
          el('td', {className: 'num', dataset: {field: 'oldest_stream_age'},
                    text: s.oldest_stream_age === null ? '–' : tb.seconds(s.oldest_stream_age)}),
          latency(s.p50), latency(s.p90), latency(s.p99), latency(s.max),
          el('td', null, histogram(s)),
          el('td', {dataset: {field: 'statuses'}}, statuses(s)),
          el('td', null, s.other ? '' : el('a', {text: 'traces \u2192',
              href: tb.tracezHref({name: s.name, kind: s.side})})));
      table.append(row);
    }
    app.append(el('div', {className: 'card'}, table));
  }
  if (page.streams.length) {
    app.append(el('h2', {text: 'Streams in flight'}));
    const table = el('table', {className: 'grid streams'},
        el('tr', null, el('th', {text: 'Side'}), el('th', {text: 'Method'}),
           el('th', {className: 'num', text: 'Age'}), el('th', {className: 'num', text: 'Sent'}),
           el('th', {className: 'num', text: 'Received'}),
           el('th', {className: 'num', text: 'Progress events'}), el('th', {text: ''})));
    for (const s of page.streams) {
      table.append(el('tr', {dataset: {side: s.side, name: s.method}},
          el('td', {text: s.side}), el('td', {className: 'mono', text: s.method}),
          el('td', {className: 'num', dataset: {field: 'age'}, text: tb.seconds(s.age)}),
          el('td', {className: 'num', text: String(s.messages_sent)}),
          el('td', {className: 'num', text: String(s.messages_received)}),
          el('td', {className: 'num', text: String(s.progress_events)}),
          el('td', null, s.trace_id ? el('a', {text: 'trace \u2192', href: tb.traceHref(s.trace_id)}) : '')));
    }
    app.append(el('div', {className: 'card'}, table));
  }
  if (!page.series.length) app.append(el('div', {className: 'notice', text: 'No method or route is registered yet.'}));

  function statuses(s) {
    const box = el('div', {className: 'chips', style: {margin: '0'}});
    for (const status of s.statuses) {
      box.append(el('span', {className: 'badge' + (status.error ? ' error' : ''),
                             dataset: {code: status.label, count: String(status.count)},
                             text: status.name + ' \u00d7' + status.count}));
    }
    return box;
  }

  function histogram(s) {
    if (!s.buckets.length) return el('span', {className: 'muted', text: '–'});
    const most = Math.max(...s.buckets.map((b) => b.count));
    const bars = el('div', {className: 'hist'});
    for (const bucket of s.buckets) {
      const bound = bucket.le === null ? '> 256 s' : '\u2264 ' + tb.seconds(bucket.le);
      const height = bucket.count ? Math.max(3, Math.round((bucket.count / most) * 30)) : 0;
      let title = bound + ': ' + bucket.count + (bucket.count === 1 ? ' call' : ' calls');
      let bar;
      if (bucket.exemplar) {
        title += '\nexample: trace ' + bucket.exemplar.trace_id + ' (' + tb.duration(bucket.exemplar.value_ns) + ')';
        bar = el('a', {className: 'b', href: tb.traceHref(bucket.exemplar.trace_id), title,
                       dataset: {exemplar: bucket.exemplar.trace_id}});
      } else {
        bar = el('span', {className: 'b', title});
      }
      bar.style.height = height + 'px';
      bars.append(bar);
    }
    const first = s.buckets[0];
    const last = s.buckets[s.buckets.length - 1];
    const lower = first.le === null ? 256 : first.le / 2;
    return el('div', {style: {display: 'inline-block'}}, bars,
        el('div', {className: 'hist-range',
                   text: tb.seconds(lower) + ' \u2013 ' + (last.le === null ? '\u221e' : tb.seconds(last.le))}));
  }
});
