/**
 * Copies a byte stream (a child process's stderr, say) into a file, each
 * chunk written through as it arrives.
 *
 * Not `readable.pipeTo(file.writable)`: under Deno 2.9 a file's `writable`
 * holds up to 64 KiB before it writes, so a log piped that way shows nothing
 * until 64 KiB have come (a slow progress log looks stopped for many
 * minutes), and whatever it held is lost if the process exits without
 * closing the file.
 */

/**
 * Drains `readable` into the file at `path` (created if missing, appended to
 * by default), writing every chunk before reading the next, and closes the
 * file when the stream ends. Rejects if the file cannot be opened or written;
 * the stream is cancelled then, so its producer is not left blocked.
 *
 * @example
 * ```ts
 * const child = new Deno.Command("deno", { args: ["--version"], stderr: "piped" }).spawn();
 * await drainToFile(child.stderr, "/tmp/child.log");
 * ```
 */
export async function drainToFile(
  readable: ReadableStream<Uint8Array>,
  path: string,
  options: { append?: boolean } = {},
): Promise<void> {
  const append = options.append ?? true;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, create: true, append, truncate: !append });
  } catch (error) {
    await readable.cancel().catch(() => {});
    throw error;
  }
  const reader = readable.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      let written = 0;
      while (written < value.length) written += await file.write(value.subarray(written));
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
    file.close();
  }
}

/** Where `drainToSink` writes: a file that writes each chunk whole before it returns. */
export interface ChunkSink {
  writeSync(bytes: Uint8Array): void;
}

/** A line longer than this is written as it comes, not held whole. */
const MOST_HELD_BYTES = 64 * 1024;

/**
 * Drains `readable` into `sink` (a `RotatingFile` shared by several
 * streams, say), each chunk written before the next is read, and in whole
 * lines: a pipe's chunk may end within a line, and written as it came the
 * rest of that line would follow another stream's lines, splicing both. The
 * end of a line is held until its newline comes (or the stream ends, or it
 * passes 64 KiB). The sink is not closed: it outlives the stream. Rejects
 * if a write fails; the stream is cancelled then.
 */
export async function drainToSink(
  readable: ReadableStream<Uint8Array>,
  sink: ChunkSink,
): Promise<void> {
  const reader = readable.getReader();
  let held: Uint8Array | undefined;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      let chunk = value;
      if (held) {
        chunk = new Uint8Array(held.length + value.length);
        chunk.set(held);
        chunk.set(value, held.length);
        held = undefined;
      }
      const whole = chunk.lastIndexOf(0x0a) + 1;
      const cut = whole === 0 && chunk.length >= MOST_HELD_BYTES ? chunk.length : whole;
      if (cut > 0) sink.writeSync(chunk.subarray(0, cut));
      if (cut < chunk.length) held = chunk.slice(cut);
    }
    if (held) sink.writeSync(held);
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}
