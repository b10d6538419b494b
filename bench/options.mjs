// The benches' `--name=value` arguments, as an object; anything else is an error.
export function options(args) {
  return Object.fromEntries(args.map((a) => {
    const m = a.match(/^--([a-z][a-z-]*)=(.*)$/);
    if (!m) throw new Error(`unknown argument ${a}`);
    return [m[1], m[2]];
  }));
}
