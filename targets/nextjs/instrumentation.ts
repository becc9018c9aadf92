// Runs once when the server starts, before it serves requests: create or update the tables.
export async function register() {
  if (process.env.NEXT_RUNTIME === "nodejs") {
    const { migrate } = await import("@/lib/auth");
    await migrate();
  }
}
