// The trace page: sources, a waterfall of every span in tree order, and a
// span's details (attributes, events, links) when its row is clicked.
'use strict';

tb.render((app, trace) => {
  const {el} = tb;
  app.append(el('h1', null, 'Trace', el('span', {className: 'mono', text: trace.trace_id})));
  if (trace.error) {
    app.append(el('div', {className: 'notice error', text: trace.error}));
    return;
  }
  const rows = trace.rows || [];
  const services = new Set(rows.map((row) => row.service));
  const startMs = Number(BigInt(trace.start_unix_nanos || '0') / 1000000n);
  app.append(el('div', {className: 'sub'},
      rows.length === 1 ? '1 span' : rows.length + ' spans',
      ' · ', services.size === 1 ? '1 service' : services.size + ' services',
      rows.length ? ' · ' + tb.duration(trace.duration_ns) + ' · started ' + tb.utc(startMs) : ''));

  // Where the spans came from: this service and every peer asked.
  const chips = el('div', {className: 'chips', id: 'sources'});
  for (const source of trace.sources || []) tb.color(source.service);
  for (const source of trace.sources || []) {
    const bad = !['ok', 'no spans', 'partial'].includes(source.state);
    const chip = el('span', {
      className: 'chip' + (bad ? ' bad' : source.state === 'partial' ? ' partial' : ''),
      title: (source.address ? source.address : 'this service') +
             (source.detail ? ' — ' + source.detail : ''),
      dataset: {service: source.service, state: source.state},
    }, el('span', {className: 'dot', style: {background: tb.color(source.service)}}));
    if (source.state === 'ok') {
      chip.append(source.service + ' · ' + source.spans + (source.spans === 1 ? ' span' : ' spans'));
    } else if (source.state === 'partial') {
      chip.append(source.service + ' · ' + source.spans + ' spans (partial)');
    } else {
      chip.append(source.service + ': ' + source.state);
    }
    chips.append(chip);
  }
  app.append(chips);
  if (trace.spans_left_out > 0) {
    app.append(el('div', {className: 'notice',
                          text: trace.spans_left_out + ' later spans are not shown (span bound).'}));
  }
  if (trace.duplicates > 0) {
    app.append(el('div', {className: 'notice',
                          text: trace.duplicates + ' spans came from more than one source; shown once.'}));
  }
  if (!rows.length) {
    app.append(el('div', {className: 'notice error',
                          text: 'No span of this trace is stored by this service or its peers.'}));
    return;
  }

  const total = Math.max(1, Number(trace.duration_ns));
  const percent = (ns) => Math.min(100, Math.max(0, (Number(ns) / total) * 100));
  const ticks = [0, 0.25, 0.5, 0.75, 1];

  const wf = el('div', {className: 'card wf', id: 'waterfall'});
  const tickLabels = el('div', {className: 'ticks'});
  for (const t of ticks) {
    tickLabels.append(el('span', {text: tb.duration(total * t), style: {left: t * 100 + '%'}}));
  }
  wf.append(el('div', {className: 'wf-row wf-head'},
      el('div', {text: 'Service'}), el('div', {text: 'Span'}), el('div', {text: 'Kind'}),
      el('div', {className: 'num', text: 'Duration'}), el('div', {text: 'Status'}),
      el('div', null, tickLabels)));

  const fragment = document.createDocumentFragment();
  rows.forEach((span, index) => {
    const error = span.status === 'error';
    const name = el('div', {className: 'name', style: {paddingLeft: 8 + Math.min(span.depth, 40) * 16 + 'px'}});
    if (span.depth > 0) name.append(el('span', {className: 'tree', text: '└'}));
    name.append(el('span', {className: 'label', text: span.name, title: span.name}));
    if (span.missing_parent) {
      name.append(el('span', {className: 'badge warn', text: 'parent span not found',
                              title: 'parent ' + span.parent}));
    }
    const lane = el('div', {className: 'lane'});
    for (const t of ticks.slice(1, 4)) lane.append(el('span', {className: 'tick', style: {left: t * 100 + '%'}}));
    lane.append(el('span', {
      className: 'bar' + (error ? ' error' : ''),
      style: {left: percent(span.start_ns) + '%', width: Math.max(0.15, percent(span.duration_ns)) + '%',
              background: tb.color(span.service)},
    }));
    const row = el('div', {
      className: 'wf-row span' + (error ? ' error' : ''), tabindex: '0',
      dataset: {index: String(index), spanId: span.id, depth: String(span.depth), service: span.service,
                kind: span.kind, name: span.name},
    },
      el('div', null, el('span', {className: 'svc-tag', title: span.service},
          el('span', {className: 'dot', style: {background: tb.color(span.service)}}), span.service)),
      name,
      el('div', {className: 'muted', text: span.kind}),
      el('div', {className: 'num', text: tb.duration(span.duration_ns)}),
      el('div', null, el('span', {className: 'badge' + (error ? ' error' : span.status === 'ok' ? ' ok' : ''),
                                  text: span.status})),
      el('div', null, lane));
    fragment.append(row);
  });
  wf.append(fragment);
  app.append(wf);
  app.append(el('div', {className: 'sub', style: {marginTop: '8px'}},
      'Click a span for its attributes, events and links.'));

  // A span's details, under its row; one open at a time.
  function attributes(list) {
    if (!list || !list.length) return el('div', {className: 'none', text: 'none'});
    const table = el('table', {className: 'kv'});
    for (const [key, type, value] of list) {
      table.append(el('tr', null, el('td', {className: 'key', text: key}),
          el('td', {className: 'val'}, value, el('span', {className: 'type', text: type}))));
    }
    return table;
  }
  function detail(span) {
    const facts = el('dl', {className: 'facts'});
    const fact = (term, value) => facts.append(el('dt', {text: term}), el('dd', null, value));
    fact('Span ID', el('span', {className: 'mono', text: span.id}));
    fact('Parent', el('span', {className: 'mono', text: span.parent || '(root)'}));
    fact('Service', span.service);
    fact('Kind', span.kind);
    fact('Start', '+' + tb.duration(span.start_ns));
    fact('Duration', tb.duration(span.duration_ns));
    fact('Status', span.status + (span.status_description ? ': ' + span.status_description : ''));
    const dropped = [];
    if (span.dropped_attributes) dropped.push(span.dropped_attributes + ' attributes');
    if (span.dropped_events) dropped.push(span.dropped_events + ' events');
    if (span.dropped_links) dropped.push(span.dropped_links + ' links');
    fact('Dropped', dropped.length ? dropped.join(', ') + (span.truncated ? ' (truncated to fit a page)' : '') : 'nothing');
    const box = el('div', {className: 'detail', dataset: {detailFor: span.id}}, facts);
    box.append(el('h3', {text: 'Attributes'}), attributes(span.attributes));
    box.append(el('h3', {text: 'Events'}));
    if (!span.events.length) box.append(el('div', {className: 'none', text: 'none'}));
    for (const event of span.events) {
      box.append(el('div', null, el('span', {className: 'mono muted', text: '+' + tb.duration(event.time_ns) + '  '}),
                    el('strong', {text: event.name})));
      if (event.attributes.length) box.append(attributes(event.attributes));
    }
    box.append(el('h3', {text: 'Links'}));
    if (!span.links.length) box.append(el('div', {className: 'none', text: 'none'}));
    for (const link of span.links) {
      box.append(el('div', null, el('a', {className: 'mono', href: tb.traceHref(link.trace_id), text: link.trace_id}),
                    el('span', {className: 'mono muted', text: ' / ' + link.span_id})));
      if (link.attributes.length) box.append(attributes(link.attributes));
    }
    return box;
  }
  function toggle(row) {
    const open = wf.querySelector('.detail');
    const wasOpen = open && open.previousSibling === row;
    if (open) open.remove();
    for (const selected of wf.querySelectorAll('.wf-row.selected')) selected.classList.remove('selected');
    if (wasOpen) return;
    row.classList.add('selected');
    row.after(detail(rows[Number(row.dataset.index)]));
  }
  wf.addEventListener('click', (event) => {
    const row = event.target.closest('.wf-row.span');
    if (row) toggle(row);
  });
  wf.addEventListener('keydown', (event) => {
    const row = event.target.closest('.wf-row.span');
    if (row && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      toggle(row);
    }
  });
});
