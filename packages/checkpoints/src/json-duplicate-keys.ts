/** Where a repeated key was found: the key, and the key of the enclosing object (null at the top level). */
export interface DuplicateKey {
  readonly key: string;
  readonly parentKey: string | null;
  readonly depth: number;
}

interface Frame {
  readonly keys: Set<string> | null; // null for arrays
  readonly name: string | null;
  lastKey: string | null;
}

/**
 * Finds the first key repeated inside one object of an already-valid JSON text (JSON.parse keeps the
 * last silently). Iterative, linear in the text length, so deep nesting cannot overflow the stack.
 */
export function findDuplicateJsonKey(text: string): DuplicateKey | null {
  const stack: Frame[] = [];
  let position = 0;
  while (position < text.length) {
    const character = text.charCodeAt(position);
    if (character === 0x7b /* { */ || character === 0x5b /* [ */) {
      const parent = stack[stack.length - 1];
      stack.push({ keys: character === 0x7b ? new Set() : null, name: parent?.lastKey ?? null, lastKey: null });
      position += 1;
    } else if (character === 0x7d /* } */ || character === 0x5d /* ] */) {
      stack.pop();
      position += 1;
    } else if (character === 0x22 /* " */) {
      const start = position;
      let escaped = false;
      position += 1;
      while (position < text.length) {
        const inner = text.charCodeAt(position);
        if (inner === 0x5c /* \ */) {
          escaped = true;
          position += 2;
        } else if (inner === 0x22) {
          break;
        } else {
          position += 1;
        }
      }
      const end = position; // index of the closing quote
      position += 1;
      let lookahead = position;
      while (lookahead < text.length && isJsonWhitespace(text.charCodeAt(lookahead))) lookahead += 1;
      const frame = stack[stack.length - 1];
      if (text.charCodeAt(lookahead) === 0x3a /* : */ && frame?.keys) {
        const key = escaped ? (JSON.parse(text.slice(start, end + 1)) as string) : text.slice(start + 1, end);
        if (frame.keys.has(key)) return { key, parentKey: frame.name, depth: stack.length };
        frame.keys.add(key);
        frame.lastKey = key;
      }
    } else {
      position += 1;
    }
  }
  return null;
}

function isJsonWhitespace(character: number): boolean {
  return character === 0x20 || character === 0x09 || character === 0x0a || character === 0x0d;
}
