// Helpers every admin page uses. Every value the pages show comes from
// spans, metrics or peers and may be hostile: text goes in through
// textContent, links are built from fixed paths with encoded parameters,
// and no HTML is ever parsed from data.
'use strict';

const tb = (() => {
  // An element: props may set className, text, href (a path this script
  // built), title, dataset, style; children are nodes or strings (as text).
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null) continue;
        if (key === 'text') node.textContent = String(value);
        else if (key === 'className') node.className = value;
        else if (key === 'dataset') Object.assign(node.dataset, value);
        else if (key === 'style') Object.assign(node.style, value);
        else if (key === 'href') node.setAttribute('href', safePath(value));
        else node.setAttribute(key, String(value));
      }
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(typeof child === 'string' ? document.createTextNode(child) : child);
    }
    return node;
  }

  // Only same-origin paths are linked ("/..." but not "//host").
  function safePath(path) {
    const text = String(path);
    return text.startsWith('/') && !text.startsWith('//') ? text : '#';
  }

  // The page's data: the JSON document the server embedded.
  function data() {
    return JSON.parse(document.getElementById('tb-data').textContent);
  }

  // "850 ns", "12.3 µs", "1.70 ms", "2.31 s".
  function duration(ns) {
    const n = Number(ns);
    if (!isFinite(n)) return '–';
    if (n === 0) return '0';
    if (n < 1e3) return n.toFixed(0) + ' ns';
    if (n < 1e6) return (n / 1e3).toFixed(n < 1e4 ? 2 : 1) + ' µs';
    if (n < 1e9) return (n / 1e6).toFixed(n < 1e7 ? 2 : 1) + ' ms';
    return (n / 1e9).toFixed(2) + ' s';
  }

  // A round bound: "0", "10 µs", "1 ms", "100 s".
  function bound(ns) {
    const n = Number(ns);
    if (n === 0) return '0';
    const units = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs']];
    for (const [size, unit] of units) {
      if (n >= size) return String(Math.round((n / size) * 1000) / 1000) + ' ' + unit;
    }
    return n + ' ns';
  }

  function seconds(s) { return duration(Number(s) * 1e9); }

  // A colour per service name: distinct for the first services a page asks
  // about (in that order), then repeating.
  const palette = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#e15759', '#76b7b2',
                   '#edc948', '#9c755f', '#ff9da7', '#bab0ac'];
  const colors = new Map();
  function color(name) {
    const key = String(name);
    if (!colors.has(key)) colors.set(key, palette[colors.size % palette.length]);
    return colors.get(key);
  }

  function traceHref(traceId) { return '/traces/' + encodeURIComponent(traceId); }

  function tracezHref(params) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== '' && value !== 0) {
        query.set(key, String(value));
      }
    }
    const text = query.toString();
    return '/tracez' + (text ? '?' + text : '');
  }

  function utc(unixMs) {
    const date = new Date(Number(unixMs));
    return isNaN(date) ? '' : date.toISOString().replace('T', ' ').replace('Z', ' UTC');
  }

  // Renders the page into <main id="app">, timing it: the time is left on
  // <body data-render-ms> for whoever wants to know.
  function render(build) {
    const start = performance.now();
    const app = document.getElementById('app');
    app.replaceChildren();
    try {
      build(app, data());
    } catch (error) {
      app.append(el('div', {className: 'notice error', text: 'This page failed to draw: ' + error}));
    }
    document.body.dataset.renderMs = (performance.now() - start).toFixed(1);
    const page = document.body.dataset.page;
    for (const link of document.querySelectorAll('header nav a')) {
      if (link.dataset.nav === page) link.classList.add('active');
    }
  }

  return {el, data, duration, bound, seconds, color, traceHref, tracezHref, utc, render};
})();
