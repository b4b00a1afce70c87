// Test-only probe for the host suite: `gateway call wsprobe.systemEvents {sessionKey, agentId}` returns the
// system events still queued for that session (the ones a heartbeat would inject into the next agent turn).
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
import { peekSystemEventEntries } from "openclaw/plugin-sdk/system-event-runtime";

export default definePluginEntry({
  id: "ws-host-probe",
  name: "workspace-sync host probe",
  description: "Test-only: reads pending system events of a session.",
  register(api) {
    if (api.registrationMode !== "full") return;
    api.registerGatewayMethod(
      "wsprobe.systemEvents",
      ({ params, respond }) => {
        const events = peekSystemEventEntries(String(params.sessionKey), params.agentId ? String(params.agentId) : undefined);
        respond(true, { events: events.map((e) => ({ text: e.text, contextKey: e.contextKey ?? null })) });
      },
      { scope: "operator.read" },
    );
  },
});
