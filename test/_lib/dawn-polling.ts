// Preloaded by test/run.ts into every test process (all of them run on CPU drivers):
// Dawn's event polling on a 1 ms timer instead of a setImmediate spin (see
// src/runtime/dawn-node-polling.ts; bench/RESULTS.md "Test suite timing").
import { pollDawnOnTimer } from '../../src/runtime/dawn-node-polling.ts';

pollDawnOnTimer();
