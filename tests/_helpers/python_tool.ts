/**
 * The one way tests talk to a Python tool of tests/py/: the request as JSON on
 * stdin, the answer on stdout. Each caller judges the answer itself (some tools
 * print an answer and then crash while exiting).
 */

/** What a tool run printed, as text, and how it exited. */
export interface PythonToolRun {
  code: number;
  success: boolean;
  /** stdout, trimmed. */
  stdout: string;
  stderr: string;
}

/** Runs `python tool` with `request` as JSON on stdin and waits for it to exit. */
export async function runPythonTool(
  python: string,
  tool: string,
  request: unknown,
  env?: Record<string, string>,
): Promise<PythonToolRun> {
  const child = new Deno.Command(python, {
    args: [tool],
    ...(env ? { env } : {}),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(request)));
  await writer.close();
  const out = await child.output();
  return {
    code: out.code,
    success: out.success,
    stdout: new TextDecoder().decode(out.stdout).trim(),
    stderr: new TextDecoder().decode(out.stderr),
  };
}
