/**
 * The in-memory store against the shared store conformance suite.
 */

import { MemoryStore } from "../../src/storage/memory.ts";
import { runStoreConformance } from "./conformance.ts";

runStoreConformance("MemoryStore", () => ({ store: new MemoryStore() }));
