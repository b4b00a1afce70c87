// A TCP proxy in front of a loopback server that can freeze: the connections stay open and new ones are accepted,
// but nothing passes either way any more (a hung server, or a proxy whose backend stopped answering). rclone then
// gets neither data nor an error; only a timeout or a probe of the remote can tell.
import net from "node:net";

export interface FreezeProxy {
  port: number;
  /** Nothing passes from now on, on the open connections and on new ones. */
  freeze(): void;
  close(): Promise<void>;
}

export async function freezeProxy(targetPort: number): Promise<FreezeProxy> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  };
  const pairs: [net.Socket, net.Socket][] = [];
  const server = net.createServer((client) => {
    track(client);
    if (frozen) return; // accepted, never answered
    const upstream = net.connect(targetPort, "127.0.0.1");
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    pairs.push([client, upstream]);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    freeze() {
      frozen = true;
      for (const [a, b] of pairs) {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
