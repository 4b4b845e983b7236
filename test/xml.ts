// A strict enough XML well-formedness check for the SVG the project writes (no library for it in
// the dependencies): one root, every tag closed in order, attributes quoted, entities known.
const NAME = '[A-Za-z_:][\\w:.-]*';
const TOKEN = new RegExp(`<\\?xml[^?]*\\?>|<!--[\\s\\S]*?-->|<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>|<|[^<]+`, 'g');

/** Throws with the offset of the first fault; answers the root element's name. */
export function assertWellFormedXml(text: string): string {
  const open: string[] = [];
  let root: string | undefined;
  let rootClosed = false;
  for (const match of text.matchAll(TOKEN)) {
    const [token, closing, name, , selfClosing] = match;
    const at = match.index;
    if (token === '<') throw new Error(`not XML at offset ${at}: a '<' that starts no tag: ${text.slice(at, at + 60)}`);
    if (token.startsWith('<?xml') || token.startsWith('<!--')) continue;
    if (!name) {
      if (/&(?!(?:lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(token)) throw new Error(`not XML at offset ${at}: a bare '&' in ${token.slice(0, 60)}`);
      if (open.length === 0 && token.trim() !== '') throw new Error(`not XML at offset ${at}: text outside the root element`);
      continue;
    }
    if (rootClosed) throw new Error(`not XML at offset ${at}: a second root element <${name}>`);
    if (closing) {
      const expected = open.pop();
      if (expected !== name) throw new Error(`not XML at offset ${at}: </${name}> closes <${expected}>`);
      if (open.length === 0) rootClosed = true;
    } else {
      root ??= name;
      if (!selfClosing) open.push(name);
      else if (open.length === 0) rootClosed = true;
    }
  }
  if (open.length > 0) throw new Error(`not XML: <${open.join('>, <')}> never closed`);
  if (!root) throw new Error('not XML: no element');
  return root;
}
