// The tracez page: a filter form, latency buckets per span name (each
// non-empty cell lists its traces), and the recent traces that pass.
'use strict';

tb.render((app, page) => {
  const {el} = tb;
  const filter = page.filter;
  app.append(el('h1', {text: 'Recent traces'}));
  app.append(el('div', {className: 'sub',
      text: 'Traces of ' + page.service + ' in its span store (the newest ' + page.spans_scanned +
            ' spans). A trace lists this service\u2019s part of it; open one for the whole trace.'}));

  // Filters: a GET form, so every view has a URL.
  const names = el('datalist', {id: 'span-names'});
  for (const entry of new Set(page.names.map((n) => n.name))) names.append(el('option', {value: entry}));
  const kind = el('select', {name: 'kind'});
  for (const option of ['', 'server', 'client', 'internal', 'producer', 'consumer']) {
    const node = el('option', {value: option, text: option || 'any'});
    if (option === filter.kind) node.selected = true;
    kind.append(node);
  }
  const errors = el('input', {type: 'checkbox', name: 'errors', value: '1'});
  errors.checked = filter.errors_only;
  const form = el('form', {className: 'card filters', method: 'get', action: '/tracez', id: 'filters'},
      el('label', null, 'Span name (route or method)',
         el('input', {type: 'text', name: 'name', className: 'wide', list: 'span-names',
                      value: filter.name, placeholder: 'any'})),
      names,
      el('label', null, 'Kind', kind),
      el('label', null, 'Slower than (ms)',
         el('input', {type: 'text', name: 'min_ms', inputmode: 'decimal', placeholder: '0',
                      value: filter.min_ns && !filter.max_ns ? String(filter.min_ns / 1e6) : ''})),
      el('label', {className: 'check'}, errors, 'Errors only'),
      el('button', {type: 'submit', text: 'Apply'}),
      el('a', {href: '/tracez', text: 'Clear', style: {paddingBottom: '6px'}}));
  if (filter.max_ns) {
    // A bucket's range came from a link: keep it while other filters change.
    form.append(el('input', {type: 'hidden', name: 'min_ns', value: String(filter.min_ns)}),
                el('input', {type: 'hidden', name: 'max_ns', value: String(filter.max_ns)}),
                el('span', {className: 'badge', style: {marginBottom: '6px'},
                            text: tb.bound(filter.min_ns) + ' \u2264 duration < ' + tb.bound(filter.max_ns)}));
  }
  app.append(form);

  // Latency buckets per span name, as OpenCensus tracez had them.
  const floors = page.bucket_floors_ns;
  app.append(el('h2', {text: 'Latency by span name'}));
  const buckets = el('table', {className: 'grid', id: 'buckets'});
  const head = el('tr', null, el('th', {text: 'Span name'}), el('th', {text: 'Kind'}));
  floors.forEach((floor) => head.append(el('th', {className: 'num keep-case', text: '\u2265 ' + tb.bound(floor)})));
  head.append(el('th', {className: 'num', text: 'Errors'}));
  buckets.append(head);
  for (const entry of page.names) {
    const row = el('tr', {dataset: {name: entry.name, kind: entry.kind}},
        el('td', {text: entry.name}), el('td', {className: 'muted', text: entry.kind}));
    entry.counts.forEach((count, i) => {
      const cell = el('td', {className: 'num' + (count ? '' : ' zero')});
      if (count) {
        cell.append(el('a', {text: String(count), href: tb.tracezHref({
          name: entry.name, kind: entry.kind, min_ns: floors[i], max_ns: floors[i + 1]})}));
      } else {
        cell.textContent = '0';
      }
      row.append(cell);
    });
    const errorCell = el('td', {className: 'num' + (entry.errors ? '' : ' zero')});
    if (entry.errors) {
      errorCell.append(el('a', {text: String(entry.errors), style: {color: 'var(--error)'},
                                href: tb.tracezHref({name: entry.name, kind: entry.kind, errors: 1})}));
    } else {
      errorCell.textContent = '0';
    }
    row.append(errorCell);
    buckets.append(row);
  }
  if (!page.names.length) buckets.append(el('tr', null, el('td', {colspan: '12', className: 'muted', text: 'No spans stored yet.'})));
  app.append(el('div', {className: 'card'}, buckets));

  // The traces that pass.
  const shown = page.traces.length;
  app.append(el('h2', {text: page.matching_traces > shown
      ? 'Traces (' + shown + ' newest of ' + page.matching_traces + ')'
      : 'Traces (' + shown + ')'}));
  const table = el('table', {className: 'grid', id: 'traces'},
      el('tr', null, el('th', {text: 'Started'}), el('th', {text: 'Root span'}), el('th', {text: 'Kind'}),
         el('th', {className: 'num', text: 'Duration'}), el('th', {className: 'num', text: 'Spans'}),
         el('th', {text: 'Error'}), el('th', {text: 'Trace ID'})));
  const longest = Math.max(1, ...page.traces.map((t) => t.duration_ns));
  for (const trace of page.traces) {
    table.append(el('tr', {dataset: {traceId: trace.trace_id, root: trace.root}},
        el('td', {className: 'mono muted', text: tb.utc(trace.start_unix_ms)}),
        el('td', null, el('a', {href: tb.traceHref(trace.trace_id), text: trace.root})),
        el('td', {className: 'muted', text: trace.kind}),
        el('td', {className: 'num'}, tb.duration(trace.duration_ns),
           el('div', {className: 'durbar' + (trace.error ? ' error' : ''),
                      style: {width: Math.max(2, (trace.duration_ns / longest) * 100) + '%', marginLeft: 'auto'}})),
        el('td', {className: 'num', text: String(trace.spans)}),
        el('td', null, trace.error ? el('span', {className: 'badge error', text: 'error'}) : ''),
        el('td', null, el('a', {className: 'mono', href: tb.traceHref(trace.trace_id), text: trace.trace_id}))));
  }
  if (!shown) table.append(el('tr', null, el('td', {colspan: '7', className: 'muted', text: 'No trace matches.'})));
  app.append(el('div', {className: 'card'}, table));
});
