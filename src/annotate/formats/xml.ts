// A small XML reader and writer for Pascal VOC files: elements, attributes, text, the five
// predefined entities and numeric character references; comments, processing instructions and
// DOCTYPE are skipped. Errors name the line. Not a general XML parser (no namespaces, no DTD).
import { AnnotationInputError } from '../shapes.ts';

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
  line: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string, file: string | undefined, line: number): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (whole, name: string) => {
    if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
    const v = ENTITIES[name];
    if (v === undefined) throw new AnnotationInputError(`unknown entity ${whole}`, { file, line });
    return v;
  });
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${Object.entries(ENTITIES).find(([, v]) => v === c)![0]};`);
}

/** Parse a document; returns its root element. */
export function parseXml(source: string, file?: string): XmlElement {
  let i = 0;
  let line = 1;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const advance = (to: number): void => {
    for (let k = i; k < to; k++) if (source.charCodeAt(k) === 10) line++;
    i = to;
  };
  const fail = (problem: string): never => {
    throw new AnnotationInputError(problem, { file, line });
  };
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const textEnd = lt < 0 ? source.length : lt;
    if (textEnd > i) {
      const text = source.slice(i, textEnd);
      if (stack.length > 0) stack[stack.length - 1].text += decodeEntities(text, file, line);
      else if (text.trim() !== '') fail('text outside the root element');
      advance(textEnd);
    }
    if (lt < 0) break;
    if (source.startsWith('<!--', i)) {
      const end = source.indexOf('-->', i);
      if (end < 0) fail('unterminated comment');
      advance(end + 3);
    } else if (source.startsWith('<?', i)) {
      const end = source.indexOf('?>', i);
      if (end < 0) fail('unterminated processing instruction');
      advance(end + 2);
    } else if (source.startsWith('<![CDATA[', i)) {
      const end = source.indexOf(']]>', i);
      if (end < 0) fail('unterminated CDATA');
      if (stack.length > 0) stack[stack.length - 1].text += source.slice(i + 9, end);
      advance(end + 3);
    } else if (source.startsWith('<!', i)) {
      const end = source.indexOf('>', i);
      if (end < 0) fail('unterminated declaration');
      advance(end + 1);
    } else if (source.startsWith('</', i)) {
      const end = source.indexOf('>', i);
      if (end < 0) fail('unterminated closing tag');
      const name = source.slice(i + 2, end).trim();
      const open = stack.pop();
      if (open === undefined || open.name !== name) fail(`closing tag </${name}> does not match <${open?.name ?? '(none)'}>`);
      advance(end + 1);
    } else {
      const end = source.indexOf('>', i);
      if (end < 0) fail('unterminated tag');
      let body = source.slice(i + 1, end);
      const selfClosing = body.endsWith('/');
      if (selfClosing) body = body.slice(0, -1);
      const m = /^([A-Za-z_][\w.:-]*)([\s\S]*)$/.exec(body);
      if (!m) fail(`malformed tag <${body.slice(0, 30)}>`);
      const element: XmlElement = { name: m![1], attributes: {}, children: [], text: '', line };
      const attrRe = /\s*([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/gy;
      let rest = m![2];
      let am: RegExpExecArray | null;
      let consumed = 0;
      while ((am = attrRe.exec(rest)) !== null) {
        element.attributes[am[1]] = decodeEntities(am[3] ?? am[4] ?? '', file, line);
        consumed = attrRe.lastIndex;
      }
      rest = rest.slice(consumed);
      if (rest.trim() !== '') fail(`malformed attributes in <${element.name}>`);
      if (stack.length > 0) stack[stack.length - 1].children.push(element);
      else if (root === undefined) root = element;
      else fail('more than one root element');
      if (!selfClosing) stack.push(element);
      advance(end + 1);
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1].name}> is not closed`);
  if (root === undefined) fail('no root element');
  return root!;
}

export function child(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

export function childText(element: XmlElement, name: string): string | undefined {
  return child(element, name)?.text.trim();
}
