// `photons init [dir]`: a project to start from, as npm-init-style tools make one: a typed example
// function, a tsconfig for it, a package.json with the scripts (if none), a .gitignore (if none).
// It never overwrites: every file it would write is checked before the first is written.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ErrorCodes, PhotonsError } from '../errors';
import { parse, usageError, type Command } from './args';

const HELLO = `// A photons function: its file name is its name. Each job runs with its own fresh module state.
import type { FunctionConfig, PhotonContext } from 'photons';

export const config: FunctionConfig = { timeoutMs: 10_000 };

export default async function hello(input: { name?: string }, ctx: PhotonContext) {
  ctx.log.info({ name: input.name }, 'greeting');
  return { greeting: \`hello \${input.name ?? 'world'}\`, jobId: ctx.jobId };
}
`;

// photons bundles the functions itself (esbuild): tsc only checks them.
const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      module: 'node16',
      moduleResolution: 'node16',
      lib: ['ES2023'],
      strict: true,
      noEmit: true,
      esModuleInterop: true,
      resolveJsonModule: true,
      skipLibCheck: true,
    },
    include: ['functions/**/*.ts'],
  },
  null,
  2,
)}\n`;

const GITIGNORE = 'node_modules/\n# what `photons start` keeps on this machine (the Redis it starts)\n.photons/\n';

function packageJson(dir: string): string {
  const name =
    path
      .basename(path.resolve(dir))
      .toLowerCase()
      .replace(/[^a-z0-9-._~]/g, '-')
      .replace(/^[._]+/, '') || 'photons-project';
  return `${JSON.stringify(
    {
      name,
      version: '0.1.0',
      private: true,
      scripts: { start: 'photons start', invoke: 'photons invoke', typecheck: 'tsc -p tsconfig.json' },
    },
    null,
    2,
  )}\n`;
}

export const initCommand: Command = {
  name: 'init',
  usage: 'photons init [dir]   (default: the working directory; never overwrites a file)',
  options: {},
  async run(argv) {
    const args = parse(this, argv);
    if (args.positionals.length > 1) throw usageError(this, `Unexpected arguments: ${args.positionals.slice(1).join(' ')}.`);
    const dir = path.resolve(args.positionals[0] ?? '.');
    const files = new Map<string, string>([
      ['functions/hello.ts', HELLO],
      ['tsconfig.json', TSCONFIG],
    ]);
    const hasPackage = existsSync(path.join(dir, 'package.json'));
    if (!hasPackage) files.set('package.json', packageJson(dir));
    if (!existsSync(path.join(dir, '.gitignore'))) files.set('.gitignore', GITIGNORE);

    const taken = [...files.keys()].filter((file) => existsSync(path.join(dir, file)));
    if (taken.length > 0) {
      throw new PhotonsError(
        ErrorCodes.FILE_EXISTS,
        `${taken.map((file) => path.join(dir, file)).join(', ')} already exist${taken.length === 1 ? 's' : ''}; photons init never overwrites a file, so it wrote nothing. Move ${taken.length === 1 ? 'it' : 'them'} away, or init another folder.`,
      );
    }
    for (const [file, text] of files) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      // 'wx': a file that appeared since the check is refused, not overwritten.
      await writeFile(path.join(dir, file), text, { flag: 'wx' });
    }

    const lines = [`photons init: wrote ${[...files.keys()].join(', ')} in ${dir}`];
    if (hasPackage) lines.push('  (kept your package.json: add "start": "photons start" to its scripts if you like)');
    if (existsSync(path.join(dir, '.gitignore')) && !files.has('.gitignore')) {
      const ignored = await readFile(path.join(dir, '.gitignore'), 'utf8');
      if (!/^\/?\.photons\/?$/m.test(ignored)) lines.push('  (kept your .gitignore: add .photons/ to it, the data of the Redis photons start runs)');
    }
    lines.push('', 'Next steps:');
    if (dir !== process.cwd()) lines.push(`  cd ${path.relative(process.cwd(), dir) || '.'}`);
    if (!(hasPackage && (await dependsOnPhotons(dir))))
      lines.push('  npm install <photons-x.y.z.tgz>      # the package packed in a checkout of photons (npm pack)');
    lines.push('  npx photons start                  # a dispatcher, the HTTP API, and Redis if none answers');
    lines.push(`  npx photons invoke hello '{"name":"world"}'`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
};

async function dependsOnPhotons(dir: string): Promise<boolean> {
  try {
    const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    return Boolean(pkg.dependencies?.photons ?? pkg.devDependencies?.photons);
  } catch {
    return false;
  }
}
