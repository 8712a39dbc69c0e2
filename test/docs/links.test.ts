import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The docs link every equation to the code computing it and every claim to the test or command
 * checking it. These tests keep those links true: each relative link must reach an existing file,
 * a `#heading` anchor into a Markdown file must name one of its headings, and a link whose text
 * is a symbol in backticks (`klStandardNormal`, `VAE.encode`) must point at a file that declares it.
 */

const root = resolve('.');
const pages = [
  ...(existsSync('docs')
    ? readdirSync('docs')
        .filter((f) => f.endsWith('.md'))
        .map((f) => join('docs', f))
    : []),
  'README.md',
];

interface Link {
  page: string;
  text: string;
  target: string;
}

/** Every inline Markdown link [text](target) outside fenced code blocks. */
export function linksOf(page: string, markdown: string): Link[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '');
  const links: Link[] = [];
  for (const m of prose.matchAll(/\[((?:[^\]`]|`[^`]*`)+)\]\(([^)\s]+)\)/g)) links.push({ page, text: m[1]!, target: m[2]! });
  return links;
}

const isExternal = (target: string): boolean => /^[a-z]+:/i.test(target);

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Whether `file` declares `name` (a function, class, const, type, interface, method or field). */
export function declares(source: string, name: string): boolean {
  const n = name.replace(/[$]/g, '\\$');
  const topLevel = new RegExp(`\\b(?:function\\*?|class|const|let|var|interface|type|enum)\\s+${n}\\b`);
  const member = new RegExp(`^\\s*(?:(?:public|private|protected|readonly|static|override|abstract|async|get|set)\\s+)*\\*?${n}\\s*[(<:=?]`, 'm');
  return topLevel.test(source) || member.test(source);
}

const all = pages.flatMap((page) => linksOf(page, readFileSync(page, 'utf8')));
const relativeLinks = all.filter((l) => !isExternal(l.target));

describe('docs links', () => {
  it('the docs exist and link to the code', () => {
    expect(pages.length).toBeGreaterThan(5);
    expect(relativeLinks.filter((l) => l.target.includes('src/')).length).toBeGreaterThan(30);
    expect(relativeLinks.filter((l) => l.target.includes('test/')).length).toBeGreaterThan(10);
  });

  it('every relative link in docs/*.md and README.md reaches an existing file', () => {
    const broken = relativeLinks
      .map((l) => ({ ...l, path: resolve(dirname(l.page), l.target.split('#')[0]!) }))
      .filter((l) => !l.target.startsWith('#') && !existsSync(l.path))
      .map((l) => `${l.page}: [${l.text}](${l.target}) → ${relative(root, l.path)} does not exist`);
    expect(broken).toEqual([]);
  });

  it('every #anchor into a Markdown file names one of its headings', () => {
    const broken: string[] = [];
    for (const l of relativeLinks.filter((x) => x.target.includes('#'))) {
      const [file, anchor] = l.target.split('#') as [string, string];
      const path = file === '' ? resolve(l.page) : resolve(dirname(l.page), file);
      if (/^L\d+/.test(anchor)) {
        broken.push(`${l.page}: [${l.text}](${l.target}) uses a line anchor, which goes stale; link the file`);
        continue;
      }
      if (!path.endsWith('.md') || !existsSync(path)) continue;
      const headings = [...readFileSync(path, 'utf8').matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1]!));
      if (!headings.includes(anchor)) broken.push(`${l.page}: [${l.text}](${l.target}): no heading '${anchor}' (has: ${headings.join(', ')})`);
    }
    expect(broken).toEqual([]);
  });

  it('every link whose text is a `symbol` points at a file that declares it', () => {
    const broken: string[] = [];
    for (const l of relativeLinks) {
      const symbol = /^`([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)(?:\(\))?`$/.exec(l.text)?.[1];
      if (!symbol) continue;
      const path = resolve(dirname(l.page), l.target.split('#')[0]!);
      if (!existsSync(path) || statSync(path).isDirectory()) continue; // reported by the test above
      const source = readFileSync(path, 'utf8');
      const missing = symbol.split('.').filter((part) => !declares(source, part));
      if (missing.length > 0) broken.push(`${l.page}: [${l.text}](${l.target}): ${relative(root, path)} does not declare ${missing.join(', ')}`);
    }
    expect(broken).toEqual([]);
  });

  it('the helpers recognize what they should', () => {
    expect(slug('Why the constant matters (in nats)')).toBe('why-the-constant-matters-in-nats');
    expect(declares('export function klStandardNormal(mu: Tensor)', 'klStandardNormal')).toBe(true);
    expect(declares('  encode(x: Tensor): { mu: Tensor }', 'encode')).toBe(true);
    expect(declares('  readonly noiseLogVar: Tensor;', 'noiseLogVar')).toBe(true);
    expect(declares('// klStandardNormal is mentioned only', 'klStandardNormal')).toBe(false);
    expect(linksOf('x.md', 'see [`a`](b.ts) and `[not](c.ts)`\n```\n[no](d.ts)\n```').map((l) => l.target)).toEqual(['b.ts', 'c.ts']);
  });
});
