import { findNodeAtLocation, parseTree, type Node, type ParseError, printParseErrorCode } from 'jsonc-parser';

/** A place in a source text, 1-based. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/**
 * Splits a spendcap JSON path (`$.rules[2]["a b"].fact`) back into segments.
 *
 * @example
 * parsePath('$.rules[2].name'); // ['rules', 2, 'name']
 */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g;
  for (const match of path.slice(1).matchAll(re)) {
    if (match[1] !== undefined) out.push(match[1]);
    else if (match[2] !== undefined) out.push(Number(match[2]));
    else out.push(JSON.parse(match[3]!) as string);
  }
  return out;
}

function positionOf(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** A parsed JSON source that can say where a JSON path is. */
export interface JsonSource {
  readonly value: unknown;
  /** Syntax errors with their positions; `value` is unusable when there are any. */
  readonly errors: readonly { message: string; position: Position }[];
  /** The line and column of the value at a spendcap JSON path (or of its nearest existing parent). */
  locate(path: string): Position;
}

/**
 * Parses JSON text keeping positions, so every issue can name `file:line:column`.
 *
 * @example
 * const source = parseJsonSource(text); source.locate('$.rules[0].name'); // { line: 12, column: 15 }
 */
export function parseJsonSource(text: string): JsonSource {
  const parseErrors: ParseError[] = [];
  const tree = parseTree(text, parseErrors, { allowTrailingComma: false, disallowComments: true });
  const errors = parseErrors.map((e) => ({
    message: printParseErrorCode(e.error),
    position: positionOf(text, e.offset),
  }));
  let value: unknown;
  if (errors.length === 0) value = JSON.parse(text);
  return {
    value,
    errors,
    locate(path: string): Position {
      if (tree === undefined) return { line: 1, column: 1 };
      const segments = parsePath(path);
      // An unknown key's path names the key itself: point at the key, not at its value.
      for (let n = segments.length; n >= 0; n--) {
        const node: Node | undefined = findNodeAtLocation(tree, segments.slice(0, n));
        if (node === undefined) continue;
        const target = n === segments.length && node.parent?.type === 'property' ? node.parent : node;
        return positionOf(text, target.offset);
      }
      return { line: 1, column: 1 };
    },
  };
}
