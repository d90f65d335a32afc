// A note's Markdown as safe markup (pure, no DOM): the small part of Markdown a note needs
// (headings, paragraphs, lists, quotes, fenced code, `code`, **bold**, *emphasis*, links) and
// nothing else. Every character of the note goes through html`...`, so HTML in a note is
// shown as text, never run; a link is a plain <a> to an http(s) or mailto address (any other
// scheme, javascript: included, stays text), opened without the page's context.
import { html } from './markup.js';

const SAFE_URL = /^(https?:\/\/|mailto:)[^\s]*$/i;
const INLINE =
  /`([^`\n]+)`|\*\*([^*\n]+?)\*\*|\*([^*\n]+?)\*|(?<![\w])_([^_\n]+?)_(?![\w])|\[([^\]\n]+)\]\(([^)\s]+)\)|<((?:https?:\/\/|mailto:)[^>\s]+)>/;

/** One line's inline Markdown as markup: code spans, bold, emphasis, links; the rest as text. */
function inline(text) {
  const out = [];
  let rest = String(text);
  for (let m = INLINE.exec(rest); m; m = INLINE.exec(rest)) {
    out.push(rest.slice(0, m.index));
    const [all, code, bold, em, em2, label, url, auto] = m;
    if (code !== undefined) out.push(html`<code>${code}</code>`);
    else if (bold !== undefined) out.push(html`<strong>${inline(bold)}</strong>`);
    else if (em !== undefined || em2 !== undefined) out.push(html`<em>${inline(em ?? em2)}</em>`);
    else if (auto !== undefined) out.push(link(auto, auto));
    else if (SAFE_URL.test(url)) out.push(link(url, inline(label)));
    else out.push(all); // an unsafe link stays as the text it was written as
    rest = rest.slice(m.index + all.length);
  }
  out.push(rest);
  return html`${out}`;
}

const link = (url, label) =>
  html`<a href="${url}" rel="nofollow noopener noreferrer" target="_blank">${label}</a>`;

const LIST_ITEM = /^\s{0,3}(?:[-*+]|(\d{1,9})[.)])\s+(.*)$/;

/** A note's Markdown (a string) as markup, block by block. */
export function renderMarkdown(text) {
  const lines = String(text ?? '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  const blocks = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (/^\s*$/.test(line)) {
      i++;
      continue;
    }
    const fence = /^\s{0,3}(```|~~~)/.exec(line);
    if (fence) {
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence[1])) body.push(lines[i++]);
      i++; // the closing fence (or the end)
      blocks.push(html`<pre><code>${body.join('\n')}</code></pre>`);
      continue;
    }
    const h = /^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (h) {
      // A note's headings sit below the page's own (h1, h2): # is h3.
      const level = Math.min(6, h[1].length + 2);
      blocks.push(html`${htmlHeading(level, inline(h[2]))}`);
      i++;
      continue;
    }
    if (/^\s{0,3}>/.test(line)) {
      const body = [];
      while (i < lines.length && /^\s{0,3}>/.test(lines[i]))
        body.push(lines[i++].replace(/^\s{0,3}>\s?/, ''));
      blocks.push(html`<blockquote>${renderMarkdown(body.join('\n'))}</blockquote>`);
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = item[1] !== undefined;
      const items = [];
      while (i < lines.length) {
        const it = LIST_ITEM.exec(lines[i]);
        if (!it || (it[1] !== undefined) !== ordered) break;
        items.push(html`<li>${inline(it[2])}</li>`);
        i++;
      }
      blocks.push(ordered ? html`<ol>${items}</ol>` : html`<ul>${items}</ul>`);
      continue;
    }
    const para = [];
    while (
      i < lines.length &&
      !/^\s*$/.test(lines[i]) &&
      !/^\s{0,3}(```|~~~|#{1,6}\s|>)/.test(lines[i]) &&
      !LIST_ITEM.exec(lines[i])
    )
      para.push(lines[i++].trim());
    blocks.push(html`<p>${inline(para.join(' '))}</p>`);
  }
  return html`${blocks}`;
}

const htmlHeading = (level, inner) =>
  [
    null,
    null,
    null,
    html`<h3>${inner}</h3>`,
    html`<h4>${inner}</h4>`,
    html`<h5>${inner}</h5>`,
    html`<h6>${inner}</h6>`,
  ][level];
