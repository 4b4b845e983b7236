// Reads a Dockerfile as text into stages of instructions (continuations joined, comments dropped),
// enough for docker.test.ts to check what the image names; no Docker engine needed.

export interface Instruction {
  /** Upper-case keyword: FROM, COPY, RUN, … */
  keyword: string;
  /** The rest of the line, continuations joined. */
  args: string;
  /** Flags such as --from=build or --interval=15s, by name. */
  flags: Map<string, string>;
  /** The JSON-array (exec) form, when the arguments are one; the words otherwise. */
  words: string[];
}

export interface Stage {
  /** The base image. */
  image: string;
  /** The name after AS, if any. */
  name: string | undefined;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (pending === '' && /^\s*(#|$)/.test(line)) continue;
    // A comment line inside a continued instruction is dropped, as Docker does.
    if (pending !== '' && /^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push((pending + line).trim());
    pending = '';
  }
  if (pending !== '') logical.push(pending.trim());

  const stages: Stage[] = [];
  for (const line of logical) {
    const instruction = parseInstruction(line);
    if (instruction.keyword === 'FROM') {
      const [image = '', as, name] = instruction.words;
      stages.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile: ${instruction.keyword} before the first FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

function parseInstruction(line: string): Instruction {
  const match = /^(\S+)\s*(.*)$/.exec(line)!;
  const keyword = match[1]!.toUpperCase();
  let args = match[2]!;
  const flags = new Map<string, string>();
  // HEALTHCHECK's flags come before CMD; COPY's before the sources.
  for (let flag = /^--([\w-]+)=(\S+)\s+/.exec(args); flag; flag = /^--([\w-]+)=(\S+)\s+/.exec(args)) {
    flags.set(flag[1]!, flag[2]!);
    args = args.slice(flag[0].length);
  }
  return { keyword, args, flags, words: words(args) };
}

function words(args: string): string[] {
  const exec = /^(?:[A-Z]+\s+)?(\[.*\])$/.exec(args);
  if (exec) {
    try {
      const parsed: unknown = JSON.parse(exec[1]!);
      if (Array.isArray(parsed) && parsed.every((w) => typeof w === 'string')) return parsed;
    } catch {
      // Not JSON after all: the shell form below.
    }
  }
  return args.split(/\s+/).filter(Boolean);
}

/** ENV keys and values of a stage, both the `K=V K2=V2` and the legacy `K V` forms. */
export function envOf(stage: Stage): Map<string, string> {
  const env = new Map<string, string>();
  for (const { keyword, args } of stage.instructions) {
    if (keyword !== 'ENV') continue;
    if (!args.includes('=')) {
      const [key, ...value] = args.split(/\s+/);
      env.set(key!, value.join(' '));
      continue;
    }
    for (const pair of args.matchAll(/([\w.-]+)=("[^"]*"|\S*)/g)) env.set(pair[1]!, pair[2]!.replace(/^"|"$/g, ''));
  }
  return env;
}
