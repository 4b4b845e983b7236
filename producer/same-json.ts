// Whether two JSON values are the same value: what a reused job id compares, the input stored in
// Redis against the one sent again. Key order does not matter (JSON objects have none); the walk
// keeps its own stack, as stored data may nest deeper than a call stack likes.

export function sameJson(a: unknown, b: unknown): boolean {
  const stack: Array<[unknown, unknown]> = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return false;
      x.forEach((item: unknown, i) => stack.push([item, y[i]]));
      continue;
    }
    const xs = Object.entries(x as Record<string, unknown>).filter(([, v]) => v !== undefined);
    const ys = y as Record<string, unknown>;
    if (xs.length !== Object.values(ys).filter((v) => v !== undefined).length) return false;
    for (const [key, value] of xs) {
      if (!Object.prototype.hasOwnProperty.call(ys, key)) return false;
      stack.push([value, ys[key]]);
    }
  }
  return true;
}
