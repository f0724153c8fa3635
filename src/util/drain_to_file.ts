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

/**
 * Drains `readable` into `sink` (a `RotatingFile` shared by several
 * streams, say), each chunk written before the next is read. The sink is
 * not closed: it outlives the stream. Rejects if a write fails; the stream
 * is cancelled then.
 */
export async function drainToSink(
  readable: ReadableStream<Uint8Array>,
  sink: ChunkSink,
): Promise<void> {
  const reader = readable.getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      sink.writeSync(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
}
