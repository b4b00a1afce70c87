// The plugin's identity, shared by the full entry (src/index.ts) and the CLI-only entry (src/cli-metadata.ts).
import { PLUGIN_ID } from "./host-context.js";

export const PLUGIN_ENTRY = {
  id: PLUGIN_ID,
  name: "Workspace Sync",
  description: "Sync the agent workspace with cloud storage through rclone, and back up the agent system as encrypted snapshots.",
} as const;
