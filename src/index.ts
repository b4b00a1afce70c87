// OpenClaw plugin entry (package.json openclaw.extensions → dist/index.js). Only wires definePluginEntry; every
// concern lives in its own module under src/plugin/.
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { registerWorkspaceSync } from "./plugin/register.js";

export default definePluginEntry({
  id: "openclaw-workspace-sync",
  name: "Workspace Sync",
  description: "Sync the agent workspace with cloud storage through rclone, and back up the agent system as encrypted snapshots.",
  register: registerWorkspaceSync,
});
