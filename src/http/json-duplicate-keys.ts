/**
 * The first member name that appears twice in one object of a JSON text, if any. JSON.parse keeps the last
 * of duplicates silently, while another reader (a signature check over the text, the bank's own parser, a
 * log) may keep the first: one body read two ways. RFC 8259 section 4 leaves such a text's meaning
 * "unpredictable", so Assent refuses it. Runs on text JSON.parse has already accepted, so it only has to
 * follow strings and brackets, not validate.
 */
export function duplicateMemberName(text: string): string | undefined {
  // One entry per open bracket: the names seen so far in an object, null for an array.
  const open: (Set<string> | null)[] = [];
  // Whether the next string in the innermost object is a member name (after `{` or `,`), not a value.
  let expectingName = false;
  for (let at = 0; at < text.length; at += 1) {
    const char = text[at];
    if (char === '"') {
      let end = at + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const names = open.at(-1);
      if (expectingName && names) {
        const name = JSON.parse(text.slice(at, end + 1)) as string;
        if (names.has(name)) return name;
        names.add(name);
        expectingName = false;
      }
      at = end;
    } else if (char === '{') {
      open.push(new Set());
      expectingName = true;
    } else if (char === '[') {
      open.push(null);
      expectingName = false;
    } else if (char === '}' || char === ']') {
      open.pop();
      expectingName = false;
    } else if (char === ',') {
      expectingName = open.at(-1) instanceof Set;
    }
  }
  return undefined;
}
