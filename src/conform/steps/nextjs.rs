//! Steps for a Next.js app that mounts Better Auth: server-action forms (nextCookies),
//! route-handler Set-Cookie propagation, proxy.ts route protection.
