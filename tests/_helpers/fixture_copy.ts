/** Writable copies of the fixture tables, for tests that change them. */

import { fixturePath } from "./fixtures.ts";

/** Copies a directory tree. */
export async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(`${from}/${entry.name}`, `${to}/${entry.name}`);
    else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

/** A fresh temporary copy of fixture table `name`; returns its directory. */
export async function copyFixture(name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: `neuralake-${name}-` });
  await copyDir(fixturePath(name), dir);
  return dir;
}
