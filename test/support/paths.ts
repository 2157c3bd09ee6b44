/**
 * Parses `$.rules[2].conditions.all[0].fact` back into segments; undefined when it is not such a path.
 * Stricter than the library's own `parsePath` on purpose: tests use it to prove every issue path is
 * well formed.
 */
export function parsePath(path: string): Array<string | number> | undefined {
  if (!path.startsWith('$')) return undefined;
  const segment = /\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y;
  const out: Array<string | number> = [];
  let index = 1;
  while (index < path.length) {
    segment.lastIndex = index;
    const match = segment.exec(path);
    if (match === null) return undefined;
    if (match[1] !== undefined) out.push(match[1]);
    else if (match[2] !== undefined) out.push(Number(match[2]));
    else out.push(JSON.parse(match[3]!) as string);
    index = segment.lastIndex;
  }
  return out;
}
