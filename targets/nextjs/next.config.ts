import type { NextConfig } from "next";

// NEXT_COOKIES=off builds the broken variant (no nextCookies plugin) into its own folder, so
// both builds can be cached side by side; the value is inlined at build time.
const nextCookies = process.env.NEXT_COOKIES === "off" ? "off" : "on";

const config: NextConfig = {
  distDir: process.env.NEXT_DIST_DIR ?? (nextCookies === "off" ? ".next-without-next-cookies" : ".next"),
  env: { NEXT_COOKIES: nextCookies },
  // The bundled app is a fixture: no telemetry prompt, no image optimisation, no x-powered-by.
  poweredByHeader: false,
  images: { unoptimized: true },
};

export default config;
