// The loopback backends every sync/backup e2e test runs against, in one list.
import { startServer, type ServerKind, type TestServer } from "../helpers/servers.js";

export interface StartedBackend {
  server: TestServer;
  /** Provider block for the product config (remoteName defaults to "cloud"). */
  block: Record<string, unknown>;
  /** What follows "cloud:" before the product's remotePath. */
  pathPrefix: string;
  stop(): Promise<void>;
}

export interface Backend {
  name: ServerKind;
  start(): Promise<StartedBackend>;
}

export function backend(name: ServerKind): Backend {
  return {
    name,
    async start() {
      const server = await startServer(name);
      const root = server.remoteRoot.replace(/\/+$/, "");
      return {
        server,
        block: server.configBlock as unknown as Record<string, unknown>,
        pathPrefix: root ? `${root}/` : "",
        stop: () => server.dispose(),
      };
    },
  };
}

const selected = (process.env.TEST_BACKENDS ?? "local,sftp,webdav,s3").split(",").filter(Boolean) as ServerKind[];
export const backends: Backend[] = selected.map(backend);
