// Headless Chromium with WebGPU on SwiftShader, as the browser tests launch it.
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--enable-unsafe-webgpu',
  // Pin WebGPU to SwiftShader so results do not depend on the host's GPU (if any).
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  // The machine may be offline: without these Chromium keeps retrying its services.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
