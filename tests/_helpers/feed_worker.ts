/**
 * A worker for the commit feed's tests: joins the feed memory it is given
 * and publishes, reads or claims versions as asked, answering each request.
 */

/// <reference lib="deno.worker" />

import { CommitFeed, type SharedFeed } from "../../src/delta/commit_feed.ts";

type Request =
  | { kind: "join"; uri: string; id: string; shared: SharedFeed }
  | { kind: "add"; version: number; text: string }
  | { kind: "get"; version: number }
  | { kind: "claim"; version: number };

let feed: CommitFeed | undefined;

self.onmessage = async (message: MessageEvent<Request>) => {
  const request = message.data;
  switch (request.kind) {
    case "join":
      feed = new CommitFeed(request.uri, request.id, { shared: request.shared });
      self.postMessage(true);
      break;
    case "add":
      feed!.add(request.version, new TextEncoder().encode(request.text));
      self.postMessage(true);
      break;
    case "get":
      self.postMessage(feed!.get(request.version) ?? null);
      break;
    case "claim":
      self.postMessage(await feed!.claim(request.version));
      break;
  }
};
