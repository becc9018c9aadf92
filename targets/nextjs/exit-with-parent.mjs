// Preloaded into every Node process of `next build` and `next start` (NODE_OPTIONS=--import=…)
// by ba-harness: exit when the harness that started us is gone (BA_HARNESS_PARENT_PID), or when
// this process was orphaned (its parent died and it was re-parented), so that neither the
// server nor a build worker outlives a harness killed with SIGKILL.
const harness = Number.parseInt(process.env.BA_HARNESS_PARENT_PID ?? "", 10);
const parentAtStart = process.ppid;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error?.code === "EPERM";
  }
}

if (Number.isInteger(harness) && harness > 0) {
  setInterval(() => {
    if (!alive(harness) || process.ppid !== parentAtStart) process.exit(0);
  }, 1000).unref();
}
