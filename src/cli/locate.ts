import { parsePath } from '../schema/zod-issues.js';
import { findNodeAtLocation, parseTree, type Node, type ParseError, printParseErrorCode } from 'jsonc-parser';

/** A place in a source text, 1-based. */
export interface Position {
  readonly line: number;
  readonly column: number;
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
  /**
   * The line and column of the value at a spendcap JSON path (or of its nearest existing parent); with
   * `atKey`, of the key that holds it (for an unknown or refused key).
   */
  locate(path: string, atKey?: boolean): Position;
  /** For a top-level array: the line each element starts on, found in one pass over the text. */
  elementLines(): number[];
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
    locate(path: string, atKey = false): Position {
      if (tree === undefined) return { line: 1, column: 1 };
      const segments = parsePath(path);
      for (let n = segments.length; n >= 0; n--) {
        const node: Node | undefined = findNodeAtLocation(tree, segments.slice(0, n));
        if (node === undefined) continue;
        const target =
          atKey && n === segments.length && node.parent?.type === 'property' ? node.parent : node;
        return positionOf(text, target.offset);
      }
      return { line: 1, column: 1 };
    },
    elementLines(): number[] {
      if (tree?.type !== 'array') return [];
      const out: number[] = [];
      let line = 1;
      let at = 0;
      for (const child of tree.children ?? []) {
        // Offsets grow element by element: count the newlines since the last one only.
        for (; at < child.offset; at++) if (text.charCodeAt(at) === 10) line++;
        out.push(line);
      }
      return out;
    },
  };
}
