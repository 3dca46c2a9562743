#!/usr/bin/env node
// The `mem3d` executable: runs src/cli/mem3d.ts through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/mem3d.ts');
